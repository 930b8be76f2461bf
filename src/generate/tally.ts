import { EXTRACT_YEAR, partsOf } from './calendar.js';
import type { Student, StudentStatus } from './people.js';

/**
 * What later tables need to know about the students once ST is written: group sizes for KGC and
 * KGH, and a compact roster (key, year, status, entry) for STMA and SXAB. Only these few fields
 * are kept, so 100,000 students stay cheap.
 */

export interface GroupCount {
  size: number;
  males: number;
  females: number;
  selfDescribed: number;
  /** Students by age at 31 December of the extract year, index 1–20 (KGH.AGE_F01…AGE_S20). */
  readonly agesF: number[];
  readonly agesM: number[];
  readonly agesS: number[];
}

/** What STMA and SXAB need of a student. */
export interface RosterEntry {
  readonly key: string;
  readonly year: number;
  readonly status: StudentStatus;
  readonly entryDay: number;
}

/** Collects counts and the roster while ST is written. */
export interface StudentTally {
  /** Notes one student; called for every row written to ST. */
  add(s: Student): void;
  /** Current students per home group key. */
  readonly homeGroups: ReadonlyMap<string, GroupCount>;
  /** Current students per house key. */
  readonly houses: ReadonlyMap<string, GroupCount>;
  /** Every student, in ST order. */
  readonly roster: readonly RosterEntry[];
}

function emptyCount(): GroupCount {
  return {
    size: 0,
    males: 0,
    females: 0,
    selfDescribed: 0,
    agesF: new Array<number>(21).fill(0),
    agesM: new Array<number>(21).fill(0),
    agesS: new Array<number>(21).fill(0),
  };
}

function addTo(map: Map<string, GroupCount>, key: string, s: Student): void {
  let c = map.get(key);
  if (!c) {
    c = emptyCount();
    map.set(key, c);
  }
  c.size++;
  const age = Math.min(20, Math.max(1, EXTRACT_YEAR - partsOf(s.birthDay).year));
  const ages = s.gender === 'M' ? c.agesM : s.gender === 'F' ? c.agesF : c.agesS;
  ages[age] = (ages[age] ?? 0) + 1;
  if (s.gender === 'M') c.males++;
  else if (s.gender === 'F') c.females++;
  else c.selfDescribed++;
}

/** An empty tally. Group sizes count students on the roll now (ACTV and LVNG). */
export function createStudentTally(): StudentTally {
  const homeGroups = new Map<string, GroupCount>();
  const houses = new Map<string, GroupCount>();
  const roster: RosterEntry[] = [];
  return {
    add(s) {
      roster.push({ key: s.key, year: s.year, status: s.status, entryDay: s.entryDay });
      if (s.status !== 'ACTV' && s.status !== 'LVNG') return;
      if (s.homeGroup) addTo(homeGroups, s.homeGroup.key, s);
      addTo(houses, s.house.key, s);
    },
    homeGroups,
    houses,
    roster,
  };
}

/** The count for `key`, or zeros when no student belongs to it. */
export function countOf(map: ReadonlyMap<string, GroupCount>, key: string): GroupCount {
  return map.get(key) ?? emptyCount();
}
