import { schoolDaysToDate } from '../calendar.js';
import type { CsvTableWriter } from '../csv-writer.js';
import { createRandom, pickWeighted, type Random } from '../random.js';
import { commitRow, setLastWrite, type SchoolContext } from './common.js';

/**
 * SXAB: half-day absence records, a few per current student this year. A record is one student
 * on one day (the (STKEY, ABSENCE_DATE) key is unique), with the morning and afternoon each
 * present or absent. Codes are KCT rows; times such as a late arrival use the hhmm reading of
 * the smallint time columns.
 */

type Pattern = 'day' | 'late' | 'early' | 'am';

const PATTERNS: readonly (readonly [Pattern, number])[] = [
  ['day', 60],
  ['late', 20],
  ['early', 12],
  ['am', 8],
];

/** Whole-day absence reasons: [KCT code, approved, comment or null]. */
const REASONS: readonly (readonly [number, boolean, string | null])[] = [
  [200, true, 'Sick, parent called'],
  [200, true, null],
  [201, true, 'Dentist, 11am'],
  [300, false, null],
  [301, true, 'Family holiday, Bali'],
  [500, true, 'Excursion'],
  [800, false, null],
];

const PRESENT = 100;

/** Distinct days, sorted, `count` of them drawn from `days` at or after `from`. */
function pickDays(days: readonly number[], from: number, count: number, random: Random): number[] {
  const eligible = days.filter((d) => d >= from);
  const chosen = new Set<number>();
  const wanted = Math.min(count, eligible.length);
  while (chosen.size < wanted) {
    const d = eligible[random.int(eligible.length)];
    if (d !== undefined) chosen.add(d);
  }
  return [...chosen].sort((a, b) => a - b);
}

/** Writes SXAB for every ACTV or LVNG student in the roster. */
export async function writeAbsences(w: CsvTableWriter, ctx: SchoolContext): Promise<void> {
  const random = createRandom(ctx.plan.seed, 'SXAB');
  const days = schoolDaysToDate();
  let id = 0;
  for (const student of ctx.tally.roster) {
    if (student.status !== 'ACTV' && student.status !== 'LVNG') continue;
    // 0–6 records, mean 3: "a few per student", some with none.
    const count = random.int(7);
    for (const day of pickDays(days, student.entryDay, count, random)) {
      const pattern = pickWeighted(random, PATTERNS);
      const [code, approved, comment] = random.pick(REASONS);
      const amAbsent = pattern === 'day' || pattern === 'late' || pattern === 'am';
      const pmAbsent = pattern === 'day' || pattern === 'early';
      const r = w.row;
      r.int('SXAB_ID', ++id);
      r.text('STKEY', student.key);
      r.text('ST_YEAR_LEVEL', String(student.year).padStart(2, '0'));
      r.date('ABSENCE_DATE', day);
      r.text('ABSENCE_COMMENT', pattern === 'day' ? comment : pattern === 'late' ? 'Late, signed in at office' : null);
      r.int('AM_EXP_TYPE', PRESENT);
      r.text('AM_ATTENDED', amAbsent && pattern !== 'late' ? 'A' : 'P');
      r.int('AM_ACT_TYPE', pattern === 'late' ? (approved ? 111 : 113) : amAbsent ? code : PRESENT);
      r.text('AM_APPROVED', amAbsent ? (approved ? 'Y' : 'N') : null);
      if (pattern === 'late') r.int('AM_LATE_ARRIVAL', 900 + random.int(50));
      r.int('PM_EXP_TYPE', PRESENT);
      r.text('PM_ATTENDED', pmAbsent ? 'A' : 'P');
      r.int('PM_ACT_TYPE', pattern === 'early' ? 119 : pmAbsent ? code : PRESENT);
      r.text('PM_APPROVED', pmAbsent ? (approved || pattern === 'early' ? 'Y' : 'N') : null);
      if (pattern === 'early') r.int('PM_EARLY_LEFT', 1300 + 100 * random.int(2) + random.int(60));
      r.text('CONTACT', approved ? 'P' : 'S');
      r.text('CONTACT_METHOD', random.pick(['T', 'E', 'S']));
      r.text('SICKBAY', code === 200 && random.chance(0.2) ? 'Y' : 'N');
      setLastWrite(r, random, day);
      await commitRow(w);
    }
  }
}
