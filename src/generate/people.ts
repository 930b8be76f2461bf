import { EXTRACT_DAY, EXTRACT_YEAR, dayOf } from './calendar.js';
import type { HomeGroup, House, SchoolPlan } from './plan.js';
import { AUSTRALIA, BACKGROUNDS, ENGLISH, NICKNAMES, type Background } from './pools.js';
import { createRandom, pickWeighted, type Random } from './random.js';
import { createCodeAllocator, mobileNumber, namePrefix, type CodeAllocator } from './text.js';

/**
 * Students and their families, drawn in one pass. Students come out in order; a family is made
 * when its first child is drawn and its later children follow, so siblings share FAMILY and
 * (mostly) SURNAME. The core fields here are what the eduHub ST file and the fixed-width
 * STUDENT.DAT share, so both formats describe the same students for the same seed.
 */

export type StudentStatus = 'FUT' | 'ACTV' | 'LVNG' | 'LEFT';
/** ST.GENDER: X stands for a self-described gender (the source does not name the third code). */
export type Gender = 'M' | 'F' | 'X';

/** A parent or guardian of a family (DF adult A or B). */
export interface Adult {
  readonly given: string;
  readonly surname: string;
  readonly gender: 'M' | 'F';
  readonly title: string;
  /** How the family's children are related to this adult (ST.RELATION_A01…). */
  readonly relation: string;
  readonly bornOverseas: boolean;
}

/** A DF row in the making; counters are filled in while its students are drawn. */
export interface Family {
  readonly index: number;
  /** DF.DFKEY, e.g. `SMI0001`. */
  readonly key: string;
  readonly surname: string;
  readonly background: Background;
  readonly adultA: Adult;
  readonly adultB: Adult | null;
  /** The other parent's household, for children of separated parents (ST.FAMB); set once, at creation. */
  alternate: Family | null;
  /** Whether this family exists only as another family's alternate household. */
  readonly isAlternate: boolean;
  /** Children still to be drawn into this family. */
  remainingChildren: number;
  /** Current students with this as their prime family (DF.NO_STUDENTS). */
  primeStudents: number;
  /** Current students linked in any way (DF.NO_ASSOC_STUDENTS). */
  associatedStudents: number;
}

/** The core of an ST row, shared by ST_<school>.csv and STUDENT.DAT. */
export interface Student {
  readonly index: number;
  /** ST.STKEY: three letters from the surname and a number, `SMI0001`. */
  readonly key: string;
  readonly registration: number;
  readonly surname: string;
  readonly firstName: string;
  readonly secondName: string | null;
  readonly prefName: string;
  readonly gender: Gender;
  readonly birthDay: number;
  /** Year level number, 7–12. */
  readonly year: number;
  readonly status: StudentStatus;
  readonly homeGroup: HomeGroup | null;
  readonly house: House;
  readonly campus: number;
  readonly family: Family;
  readonly entryDay: number;
  /** Leaving date for LEFT students (EXIT_DATE, DATELEFT). */
  readonly exitDay: number | null;
  /** Planned departure for LVNG students (DEPARTURE_DATE). */
  readonly departureDay: number | null;
  readonly email: string;
  readonly mobile: string | null;
  readonly birthCountry: string;
  readonly homeLanguage: string;
  /** Arrival in Australia for students born overseas. */
  readonly arrivalDay: number | null;
}

/** Whether a student has a school e-mail account: on the roll now, not future or left. */
export function hasSchoolAccount(status: StudentStatus): boolean {
  return status === 'ACTV' || status === 'LVNG';
}

/** Whether a student counts as current (on the roll now or enrolled for next year). */
export function isCurrent(status: StudentStatus): boolean {
  return status !== 'LEFT';
}

const STATUS_WEIGHTS: readonly (readonly [StudentStatus, number])[] = [
  ['ACTV', 86],
  ['FUT', 4],
  ['LVNG', 3],
  ['LEFT', 7],
];

/** Children per family: mean ≈ 1.43, so families ≈ 0.7 × students. */
const CHILDREN_WEIGHTS: readonly (readonly [number, number])[] = [
  [1, 65],
  [2, 28],
  [3, 6],
  [4, 1],
];

const BACKGROUND_WEIGHTS = BACKGROUNDS.map((b) => [b, b.weight] as const);

function givenName(random: Random, background: Background, gender: Gender): string {
  const pool =
    gender === 'M'
      ? background.male
      : gender === 'F'
        ? background.female
        : random.chance(0.5)
          ? background.male
          : background.female;
  return random.pick(pool);
}

function makeAdult(
  random: Random,
  background: Background,
  gender: 'M' | 'F',
  surname: string,
  overseasShare: number,
): Adult {
  return {
    given: givenName(random, background, gender),
    surname,
    gender,
    title: gender === 'M' ? 'Mr' : random.pick(['Ms', 'Mrs', 'Ms', 'Dr']),
    relation:
      gender === 'M'
        ? random.pick(['Father', 'Father', 'Father', 'Step-father', 'Guardian'])
        : random.pick(['Mother', 'Mother', 'Mother', 'Step-mother', 'Guardian']),
    bornOverseas: random.chance(overseasShare),
  };
}

/** Shared state of one drawing pass: code counters and the family being filled. */
export interface StudentSequence {
  /** Draws the next student. */
  next(): Student;
  /** Every family drawn so far, when the sequence keeps them (generateSchool needs them for DF). */
  readonly families: readonly Family[];
}

/**
 * Draws students one after another for `plan`. `keepFamilies` keeps every family for the DF and
 * UM files; the 1,000,000-row benchmark turns it off so memory stays flat.
 */
export function createStudentSequence(plan: SchoolPlan, options: { keepFamilies: boolean }): StudentSequence {
  const random = createRandom(plan.seed, 'students');
  const studentKeys = createCodeAllocator(4);
  const familyKeys: CodeAllocator = createCodeAllocator(4);
  const families: Family[] = [];
  let familyCount = 0;
  let current: Family | null = null;
  let registration = 100_000;
  let index = 0;

  const makeFamily = (alternateOf: Family | null): Family => {
    const fr = createRandom(plan.seed, 'family', familyCount);
    const background = alternateOf?.background ?? pickWeighted(fr, BACKGROUND_WEIGHTS);
    const surname = alternateOf?.surname ?? fr.pick(background.surnames);
    const overseas = background.id === 'anglo' ? 0.1 : 0.5;
    // A single-parent household half the time has the other parent as an alternate family.
    const single = alternateOf !== null || fr.chance(0.2);
    const genderA: 'M' | 'F' = alternateOf ? 'M' : fr.chance(0.9) ? 'F' : 'M';
    const ownSurname = !alternateOf && fr.chance(0.15) ? fr.pick(background.surnames) : surname;
    const adultA = makeAdult(fr, background, genderA, ownSurname, overseas);
    const adultB = single ? null : makeAdult(fr, background, genderA === 'F' ? 'M' : 'F', surname, overseas);
    const index = familyCount++;
    const family: Family = {
      index,
      key: familyKeys.next(namePrefix(surname, adultA.given)),
      surname,
      background,
      adultA,
      adultB,
      alternate: null,
      isAlternate: alternateOf !== null,
      remainingChildren: alternateOf ? 0 : pickWeighted(fr, CHILDREN_WEIGHTS),
      primeStudents: 0,
      associatedStudents: 0,
    };
    if (options.keepFamilies) families.push(family);
    if (single && !alternateOf && fr.chance(0.5)) {
      family.alternate = makeFamily(family);
    }
    return family;
  };

  const next = (): Student => {
    if (!current || current.remainingChildren <= 0) current = makeFamily(null);
    const family = current;
    family.remainingChildren--;

    const status = pickWeighted(random, STATUS_WEIGHTS);
    const year = status === 'FUT' ? 7 : 7 + random.int(6);
    const gender: Gender = random.chance(0.02) ? 'X' : random.chance(0.5) ? 'F' : 'M';
    const background = family.background;
    const surname = random.chance(0.95) ? family.surname : random.pick(background.surnames);
    const firstName = givenName(random, background, gender);
    const secondName = random.chance(0.35)
      ? givenName(random, random.chance(0.7) ? background : (BACKGROUNDS[0] ?? background), gender)
      : null;
    const nickname = NICKNAMES[firstName];
    const prefName = nickname && random.chance(0.4) ? nickname : firstName;

    // Victorian entry age: Prep in the year a child turns 5 by 30 April.
    const prepYear = (status === 'FUT' ? EXTRACT_YEAR + 1 : EXTRACT_YEAR) - year;
    const shift = random.chance(0.03) ? random.pick([-1, 1]) : 0;
    const birthDay = dayOf(prepYear - 6 + shift, 5, 1) + random.int(365);

    const startOfYear7 = dayOf(prepYear + 7, 1, 30);
    const lateEntry = random.chance(0.2);
    // A fifth arrive after the start of year 7 (transfers), on any later day up to the extract.
    const lateSpan = EXTRACT_DAY - startOfYear7 - 41;
    const entryDay =
      status === 'FUT'
        ? dayOf(EXTRACT_YEAR + 1, 1, 29)
        : lateEntry && lateSpan > 0
          ? startOfYear7 + 40 + random.int(lateSpan)
          : startOfYear7;
    const exitDay = status === 'LEFT' ? entryDay + 1 + random.int(Math.max(1, EXTRACT_DAY - entryDay - 1)) : null;
    const departureDay = status === 'LVNG' ? EXTRACT_DAY + 7 + random.int(60) : null;

    const yearGroups = plan.homeGroupsByYear.get(year) ?? [];
    const homeGroup = status === 'FUT' || yearGroups.length === 0 ? null : random.pick(yearGroups);
    const house = random.pick(plan.houses);
    const campus = plan.years.find((y) => y.num === year)?.campus ?? 1;

    const overseas = family.adultA.bornOverseas && random.chance(0.4);
    const birthCountry = overseas ? background.country : AUSTRALIA;
    const arrivalDay = overseas ? birthDay + 365 + random.int(Math.max(1, entryDay - birthDay - 365)) : null;
    const homeLanguage = background.language !== ENGLISH && random.chance(0.6) ? background.language : ENGLISH;

    const key = studentKeys.next(namePrefix(surname, firstName));
    registration += 1 + (random.chance(0.1) ? random.int(3) : 0);
    const mobile = random.chance(0.3) ? mobileNumber(random) : null;

    if (isCurrent(status)) {
      family.primeStudents++;
      family.associatedStudents++;
      if (family.alternate) family.alternate.associatedStudents++;
    }

    return {
      index: index++,
      key,
      registration,
      surname,
      firstName,
      secondName,
      prefName,
      gender,
      birthDay,
      year,
      status,
      homeGroup,
      house,
      campus,
      family,
      entryDay,
      exitDay,
      departureDay,
      email: `${key.toLowerCase()}@schools.vic.edu.au`,
      mobile,
      birthCountry,
      homeLanguage,
      arrivalDay,
    };
  };

  return { next, families };
}
