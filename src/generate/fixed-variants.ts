import type { FixedColumn, FixedFile } from './fixed.js';
import { hasSchoolAccount, type Student } from './people.js';
import { createRandom } from './random.js';
import type { StaffMember } from './staff.js';
import { yyyymmdd } from './calendar.js';

/**
 * Other shapes of the fixed-width files, for testing the layout tools on more than one layout:
 * `seed` is the seed system's own example layout (data/seed-dat-layouts.json: STUDENT.DAT with
 * GIVEN_NAMES, DOB, SEX, HOMEKEY…; STAFF.DAT with EMPLOYMENT_TYPE, ACTIVE_FLAG…), and `varied`
 * the CASES layout with its columns in an order drawn from the seed, each field a little wider,
 * and whole numbers (CAMPUS, ROLL_NO, YEAR_NO) side by side, right-aligned.
 */

const date = (day: number | null): string | null => (day === null ? null : yyyymmdd(day));

export const SEED_STUDENT_FILE: FixedFile<Student> = {
  filename: 'STUDENT.DAT',
  table: 'DF',
  primaryKey: 'CASES_KEY',
  columns: [
    { name: 'CASES_KEY', width: 10, type: 'string', value: (s) => s.key },
    { name: 'SURNAME', width: 30, type: 'string', value: (s) => s.surname.toUpperCase() },
    {
      name: 'GIVEN_NAMES',
      width: 30,
      type: 'string',
      value: (s) => (s.secondName ? `${s.firstName} ${s.secondName}` : s.firstName),
    },
    { name: 'DOB', width: 8, type: 'date', value: (s) => date(s.birthDay) },
    { name: 'SEX', width: 1, type: 'flag', value: (s) => s.gender },
    { name: 'HOMEKEY', width: 10, type: 'string', value: (s) => s.homeGroup?.key ?? null },
    { name: 'HOUSE', width: 10, type: 'string', value: (s) => s.house.key },
    { name: 'YEAR_LEVEL', width: 2, type: 'string', value: (s) => String(s.year).padStart(2, '0') },
    { name: 'EMAIL', width: 100, type: 'string', value: (s) => (hasSchoolAccount(s.status) ? s.email : null) },
    { name: 'TELEPHONE', width: 20, type: 'string', value: (s) => s.mobile },
  ],
  fieldMapping: {
    CASES_KEY: 'studentId',
    SURNAME: 'surname',
    GIVEN_NAMES: 'givenNames',
    DOB: 'dob',
    SEX: 'sex',
    HOMEKEY: 'homeGroup',
    HOUSE: 'house',
    YEAR_LEVEL: 'yearLevel',
    EMAIL: 'email',
    TELEPHONE: 'phone',
  },
};

export const SEED_STAFF_FILE: FixedFile<StaffMember> = {
  filename: 'STAFF.DAT',
  table: 'SF',
  primaryKey: 'SFKEY',
  columns: [
    { name: 'SFKEY', width: 10, type: 'string', value: (s) => s.key },
    { name: 'SURNAME', width: 30, type: 'string', value: (s) => s.surname.toUpperCase() },
    { name: 'GIVEN_NAMES', width: 30, type: 'string', value: (s) => s.firstName },
    { name: 'EMAIL', width: 100, type: 'string', value: (s) => s.email },
    { name: 'EMPLOYMENT_TYPE', width: 2, type: 'string', value: (s) => (s.fte >= 1 ? 'FT' : 'PT') },
    { name: 'ACTIVE_FLAG', width: 1, type: 'flag', value: (s) => (s.status === 'LEFT' ? 'N' : 'Y') },
    { name: 'DEPARTMENT', width: 50, type: 'string', value: (s) => s.faculty },
    { name: 'POSITION', width: 50, type: 'string', value: (s) => s.title },
    { name: 'TELEPHONE', width: 20, type: 'string', value: (s) => s.mobile },
  ],
  fieldMapping: {
    SFKEY: 'staffId',
    SURNAME: 'surname',
    GIVEN_NAMES: 'givenNames',
    EMAIL: 'email',
    EMPLOYMENT_TYPE: 'employmentType',
    ACTIVE_FLAG: 'activeFlag',
    DEPARTMENT: 'department',
    POSITION: 'position',
    TELEPHONE: 'phone',
  },
};

/** Whole numbers added to the `varied` layouts, kept side by side wherever they land. */
const EXTRA_STUDENT_NUMBERS: readonly FixedColumn<Student>[] = [
  { name: 'ROLL_NO', width: 4, type: 'int', value: (s) => s.index + 1 },
  { name: 'YEAR_NO', width: 2, type: 'int', value: (s) => s.year },
];

/**
 * `file` with its columns in a drawn order (the key stays first), each text and number field
 * 0–3 characters wider (numbers 1–3), and its numeric columns (with `extra` ones) in one block, so numbers
 * meet numbers and dates. Deterministic for a seed.
 */
export function variedFile<T>(file: FixedFile<T>, seed: number, extra: readonly FixedColumn<T>[] = []): FixedFile<T> {
  const random = createRandom(seed, `fixed-layout-${file.filename}`);
  const [key, ...rest] = file.columns;
  if (!key) return file;
  const numbers = [...rest.filter((c) => c.type === 'int' || c.type === 'float'), ...extra];
  const others = rest.filter((c) => c.type !== 'int' && c.type !== 'float');
  // Fisher–Yates with the generator's own random stream.
  for (let i = others.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    const a = others[i];
    const b = others[j];
    if (a && b) [others[i], others[j]] = [b, a];
  }
  const at = random.int(others.length + 1);
  const order = [key, ...others.slice(0, at), ...numbers, ...others.slice(at)];
  // Numbers keep at least one character of padding: `1` and `100234` written flush would be
  // `1100234`, which no reader of the file could split.
  const widen = (c: FixedColumn<T>): number =>
    c.type === 'date' || c.type === 'flag'
      ? 0
      : c.type === 'int' || c.type === 'float'
        ? 1 + random.int(3)
        : random.int(4);
  const columns = order.map((c): FixedColumn<T> => ({ ...c, width: c.width + widen(c) }));
  return { ...file, columns };
}

export function variedStudentFile(file: FixedFile<Student>, seed: number): FixedFile<Student> {
  return variedFile(file, seed, EXTRA_STUDENT_NUMBERS);
}
