import { readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { SEED_DAT_LAYOUTS_PATH } from '../../src/layouts/seed-dat.js';

/** The seed's relationships.json example (CASES_ETL_COMPLETE.md), its column list completed as the original system had it. */
export const SEED_EXAMPLE = {
  filename: 'STUDENT.DAT',
  table_name: 'DF_8865',
  columns: [
    { name: 'CASES_KEY', start: 0, width: 10 },
    { name: 'SURNAME', start: 10, width: 30 },
    { name: 'GIVEN_NAMES', start: 40, width: 30 },
    { name: 'DOB', start: 70, width: 8 },
    { name: 'SEX', start: 78, width: 1 },
    { name: 'HOMEKEY', start: 79, width: 10 },
    { name: 'HOUSE', start: 89, width: 10 },
    { name: 'YEAR_LEVEL', start: 99, width: 2 },
    { name: 'EMAIL', start: 101, width: 100 },
    { name: 'TELEPHONE', start: 201, width: 20 },
  ],
  field_mapping: {
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

/** One record of a seed `.DAT` file: column name to text (missing columns are blank). */
export type DatRecord = Readonly<Record<string, string>>;

interface SeedColumn {
  name: string;
  start: number;
  width: number;
}

/** The seed's four file names, in the order the original system listed them. */
export const SEED_DAT_FILES = ['STUDENT.DAT', 'STAFF.DAT', 'ENROL.DAT', 'PARENT.DAT'] as const;
export type SeedDatFile = (typeof SEED_DAT_FILES)[number];

async function seedColumns(file: SeedDatFile): Promise<SeedColumn[]> {
  const json = JSON.parse(await readFile(SEED_DAT_LAYOUTS_PATH, 'utf8')) as {
    file_layouts: Record<string, { columns: SeedColumn[] }>;
  };
  const layout = json.file_layouts[file];
  if (!layout) throw new Error(`no seed layout for ${file}`);
  return layout.columns;
}

/** `n` made-up students: keys, names and emails that are nobody's, home groups like `7A`. */
export function seedStudents(n: number): DatRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const year = 7 + (i % 6);
    return {
      CASES_KEY: `TST${String(i + 1).padStart(4, '0')}`,
      SURNAME: `SURNAME${i + 1}`,
      GIVEN_NAMES: `Given ${i + 1}`,
      DOB: `20${String(12 - (i % 6)).padStart(2, '0')}0${1 + (i % 9)}1${i % 10}`,
      SEX: i % 2 === 0 ? 'F' : 'M',
      HOMEKEY: `${year}${'ABC'[i % 3] ?? 'A'}`,
      HOUSE: ['RED', 'BLUE', 'GOLD'][i % 3] ?? 'RED',
      YEAR_LEVEL: String(year).padStart(2, '0'),
      EMAIL: `tst${i + 1}@example.invalid`,
      TELEPHONE: `0400 000 ${String(i).padStart(3, '0')}`,
    };
  });
}

/** A night of the seed's fixed-width export: `n` students, a few staff, their enrolments and parents. */
export function seedNight(n: number): Record<SeedDatFile, DatRecord[]> {
  const students = seedStudents(n);
  return {
    'STUDENT.DAT': students,
    'STAFF.DAT': Array.from({ length: 3 }, (_, i) => ({
      SFKEY: `STF${i + 1}`,
      SURNAME: `STAFF${i + 1}`,
      GIVEN_NAMES: `Teacher ${i + 1}`,
      EMAIL: `stf${i + 1}@example.invalid`,
      EMPLOYMENT_TYPE: 'FT',
      ACTIVE_FLAG: 'Y',
      DEPARTMENT: 'Mathematics',
      POSITION: 'Teacher',
      TELEPHONE: '03 9000 0000',
    })),
    'ENROL.DAT': students.flatMap((s) =>
      ['ENG', 'MAT'].map((subject) => ({
        CASES_KEY: s.CASES_KEY ?? '',
        CLASS_CODE: `${s.HOMEKEY}${subject}`,
        PERIOD: '01',
        YEAR: '2025',
        SEMESTER: '1',
      })),
    ),
    'PARENT.DAT': students.map((s, i) => ({
      PARENT_KEY: `PAR${String(i + 1).padStart(4, '0')}`,
      SURNAME: s.SURNAME ?? '',
      GIVEN_NAMES: `Parent ${i + 1}`,
      EMAIL: `par${i + 1}@example.invalid`,
      TELEPHONE: '0400 111 222',
      RELATIONSHIP: 'GUARDIAN',
    })),
  };
}

/**
 * Writes `records` as `file` in the seed's fixed-width layout (data/seed-dat-layouts.json): each
 * value left-aligned and padded to its width, CRLF line ends, an hour old so discovery takes it.
 */
export async function writeSeedDat(dir: string, file: SeedDatFile, records: readonly DatRecord[]): Promise<void> {
  const columns = await seedColumns(file);
  const width = Math.max(...columns.map((c) => c.start + c.width));
  const lines = records.map((r) => {
    let line = ' '.repeat(width);
    for (const c of columns) {
      const value = r[c.name] ?? '';
      if (value.length > c.width) throw new Error(`${file} ${c.name}: ${value} is wider than ${c.width}`);
      line = line.slice(0, c.start) + value.padEnd(c.width) + line.slice(c.start + c.width);
    }
    return `${line}\r\n`;
  });
  const path = join(dir, file);
  await writeFile(path, lines.join(''), 'latin1');
  const t = new Date(Date.now() - 3_600_000);
  await utimes(path, t, t);
}

/** Writes a whole seed night (or the files named in `only`) into `dir`. */
export async function writeSeedNight(
  dir: string,
  n = 12,
  only: readonly SeedDatFile[] = SEED_DAT_FILES,
): Promise<void> {
  const night = seedNight(n);
  for (const file of only) await writeSeedDat(dir, file, night[file]);
}
