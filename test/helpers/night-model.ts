import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

import fc from 'fast-check';

import { writeCsv } from './nights.js';

/**
 * Sequences of nightly extracts as plain data, for property tests: fast-check generates and
 * shrinks the data, and `writeNight` turns one night into files. Rows pick every value from a
 * small pool by index, so a shrunk counterexample reads as "key 3 with the second surname"
 * rather than as random text, and a key seen on two nights is often unchanged.
 */

/** Keys in the student pool: small, so rows leave, come back and change across a few nights. */
export const STUDENT_KEYS = 12;
/** Keys in the staff pool. */
export const STAFF_KEYS = 4;

// Each pool's first value is the usual one; the others exercise quoting, Windows-1252 and nulls.
const SURNAMES = ['NGUYEN', "O'BRIEN", 'MÜLLER', 'LEE, JR'] as const;
const FIRST_NAMES = ['Ava', 'Zoë', 'José', ''] as const;
const BIRTHDATES = ['5/02/2009 12:00:00 AM', '29/02/2012 12:00:00 AM', '31/12/2010 12:00:00 AM', ''] as const;
const STATUSES = ['ACTV', 'FUT', 'LVNG', 'LEFT'] as const;
/** REGISTRATION variants per key; kept under 10 so registrations stay unique across keys. */
const REGISTRATIONS = 3;
const STAFF_SURNAMES = ['WRIGHT', 'ÅBERG', 'SMITH "JNR"'] as const;

/** One ST row: a key from the pool and an index into each field's pool. */
export interface StudentRow {
  readonly key: number;
  readonly surname: number;
  readonly firstName: number;
  readonly birthdate: number;
  readonly status: number;
  readonly registration: number;
  /**
   * What is wrong with the row, if anything: 0 nothing; 1 an impossible birth date (rejected with
   * its key read, so held); 2 an empty key (rejected with no key, so the night's deactivations
   * are deferred).
   */
  readonly fault: number;
}

/** One SF row. */
export interface StaffRow {
  readonly key: number;
  readonly surname: number;
}

/**
 * A night in the export folder. `full`: a new full ST extract (any delta is gone), and a new SF
 * extract unless `staff` is null (SF then stays as it was, or absent if it never came).
 * `delta`: an `ST_<school>_D.csv` newer than the full extract, which stays as it was.
 * `unchanged`: the folder as the night before left it, so the run is skipped (or, before any
 * files came, there is no run).
 */
export type Night =
  | { readonly kind: 'full'; readonly students: readonly StudentRow[]; readonly staff: readonly StaffRow[] | null }
  | { readonly kind: 'delta'; readonly students: readonly StudentRow[] }
  | { readonly kind: 'unchanged' };

/** An index into a pool of `size`, mostly 0 (the usual value), shrinking to 0. */
const poolIndex = (size: number): fc.Arbitrary<number> =>
  fc.oneof({ arbitrary: fc.constant(0), weight: 3 }, { arbitrary: fc.integer({ min: 0, max: size - 1 }), weight: 2 });

/**
 * A student key, half the time from the first few, so a delta often touches a row the delta
 * before it (or the full extract) also touched.
 */
const studentKeyArb = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: STUDENT_KEYS - 1 }));

export const studentRowArb: fc.Arbitrary<StudentRow> = fc.record({
  key: studentKeyArb,
  surname: poolIndex(SURNAMES.length),
  firstName: poolIndex(FIRST_NAMES.length),
  birthdate: poolIndex(BIRTHDATES.length),
  status: poolIndex(STATUSES.length),
  registration: poolIndex(REGISTRATIONS),
  fault: fc.oneof(
    { arbitrary: fc.constant(0), weight: 8 },
    { arbitrary: fc.constant(1), weight: 1 },
    { arbitrary: fc.constant(2), weight: 1 },
  ),
});

export const staffRowArb: fc.Arbitrary<StaffRow> = fc.record({
  key: fc.integer({ min: 0, max: STAFF_KEYS - 1 }),
  surname: poolIndex(STAFF_SURNAMES.length),
});

const students = (minLength: number, maxLength: number): fc.Arbitrary<StudentRow[]> =>
  fc.uniqueArray(studentRowArb, { selector: (r) => r.key, minLength, maxLength });

export const fullNightArb: fc.Arbitrary<Night> = fc.record({
  kind: fc.constant('full' as const),
  // Now and then every student leaves at once: a header-only file, published only with allowShrink.
  students: fc.oneof({ arbitrary: students(1, STUDENT_KEYS), weight: 12 }, { arbitrary: fc.constant([]), weight: 1 }),
  // SF changes less often than ST: usually the file is left as it was.
  staff: fc.oneof(
    { arbitrary: fc.constant(null), weight: 2 },
    {
      arbitrary: fc.uniqueArray(staffRowArb, { selector: (r) => r.key, minLength: 1, maxLength: STAFF_KEYS }),
      weight: 1,
    },
  ),
});

export const deltaNightArb: fc.Arbitrary<Night> = fc.record({
  kind: fc.constant('delta' as const),
  students: students(1, 4),
});

export const unchangedNightArb: fc.Arbitrary<Night> = fc.constant({ kind: 'unchanged' as const });

/**
 * One to `maxNights` nights: full extracts and deltas about equally often (a delta after a delta
 * is where one run changes a row twice: its full extract reverts the old delta, then the new delta
 * applies), now and then a night with nothing new. A plain array, so shrinking can drop any night.
 */
export const nightsArb = (maxNights: number): fc.Arbitrary<Night[]> =>
  fc.array(
    fc.oneof(
      { arbitrary: fullNightArb, weight: 5 },
      { arbitrary: deltaNightArb, weight: 5 },
      { arbitrary: unchangedNightArb, weight: 1 },
    ),
    { minLength: 1, maxLength: maxNights },
  );

/** The STKEY of pool key `key`. */
export const studentKey = (key: number): string => `STU${String(key).padStart(4, '0')}`;
/** The SFKEY of pool key `key`. */
export const staffKey = (key: number): string => String.fromCharCode(65 + key).repeat(3);

export const STUDENT_HEADER = ['STKEY', 'SURNAME', 'FIRST_NAME', 'BIRTHDATE', 'STATUS', 'REGISTRATION'];
export const STAFF_HEADER = ['SFKEY', 'SURNAME'];

/** The CSV cells of a student row. */
export function studentCells(r: StudentRow): string[] {
  return [
    r.fault === 2 ? '' : studentKey(r.key),
    SURNAMES[r.surname] ?? '',
    FIRST_NAMES[r.firstName] ?? '',
    r.fault === 1 ? '31/02/2011 12:00:00 AM' : (BIRTHDATES[r.birthdate] ?? ''),
    STATUSES[r.status] ?? '',
    String(1000 + r.key * 10 + r.registration),
  ];
}

/** The CSV cells of a staff row. */
export function staffCells(r: StaffRow): string[] {
  return [staffKey(r.key), STAFF_SURNAMES[r.surname] ?? ''];
}

/** When night `index` was exported: an hour apart, well in the past, so every file is settled. */
export function nightTime(index: number, epoch: Date): Date {
  return new Date(epoch.getTime() + index * 3_600_000);
}

/**
 * Puts night `index` of `school` into `dir` as the export would leave it: a full night replaces
 * ST (and SF when it has one) and removes yesterday's delta; a delta night writes the `_D` file
 * only, newer than the full extract beside it; an unchanged night touches nothing.
 */
export async function writeNight(dir: string, school: string, night: Night, index: number, epoch: Date): Promise<void> {
  await mkdir(dir, { recursive: true });
  const at = nightTime(index, epoch);
  if (night.kind === 'unchanged') return;
  if (night.kind === 'delta') {
    await writeCsv(
      join(dir, `ST_${school}_D.csv`),
      { header: STUDENT_HEADER, rows: night.students.map(studentCells) },
      at,
    );
    return;
  }
  await rm(join(dir, `ST_${school}_D.csv`), { force: true });
  await writeCsv(join(dir, `ST_${school}.csv`), { header: STUDENT_HEADER, rows: night.students.map(studentCells) }, at);
  if (night.staff)
    await writeCsv(join(dir, `SF_${school}.csv`), { header: STAFF_HEADER, rows: night.staff.map(staffCells) }, at);
}
