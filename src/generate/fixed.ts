import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { yyyymmdd } from './calendar.js';
import type { GeneratedFile, ResolvedOptions } from './options.js';
import { createStudentSequence, hasSchoolAccount, type Student } from './people.js';
import { planSchool } from './plan.js';
import { SEED_STAFF_FILE, SEED_STUDENT_FILE, variedFile, variedStudentFile } from './fixed-variants.js';
import { createTextSink } from './sink.js';
import { makeStaff, type StaffMember } from './staff.js';

/**
 * The fixed-width flavour: STUDENT.DAT and STAFF.DAT, one record per line, every line exactly
 * the record width, plus the relationships.json `file_layouts` that describe them in the seed's
 * shape (STUDENT.DAT belongs to table DF_<school>, as the seed has it). The students and staff
 * are the ones the eduHub generator draws for the same school, count and seed.
 */

export type FixedType = 'string' | 'flag' | 'int' | 'float' | 'date';

export interface FixedColumn<T> {
  readonly name: string;
  readonly width: number;
  readonly type: FixedType;
  readonly value: (item: T) => string | number | null;
}

export interface FixedFile<T> {
  readonly filename: string;
  readonly table: string;
  readonly primaryKey: string;
  readonly columns: readonly FixedColumn<T>[];
  readonly fieldMapping: Readonly<Record<string, string>>;
}

const date = (day: number | null): string | null => (day === null ? null : yyyymmdd(day));

const STUDENT_FILE: FixedFile<Student> = {
  filename: 'STUDENT.DAT',
  table: 'DF',
  primaryKey: 'CASES_KEY',
  columns: [
    { name: 'CASES_KEY', width: 10, type: 'string', value: (s) => s.key },
    { name: 'SURNAME', width: 30, type: 'string', value: (s) => s.surname.toUpperCase() },
    { name: 'FIRST_NAME', width: 20, type: 'string', value: (s) => s.firstName },
    { name: 'SECOND_NAME', width: 20, type: 'string', value: (s) => s.secondName },
    { name: 'PREF_NAME', width: 20, type: 'string', value: (s) => s.prefName },
    { name: 'BIRTHDATE', width: 8, type: 'date', value: (s) => date(s.birthDay) },
    { name: 'GENDER', width: 1, type: 'flag', value: (s) => s.gender },
    { name: 'HOME_GROUP', width: 3, type: 'string', value: (s) => s.homeGroup?.key ?? null },
    { name: 'HOUSE', width: 10, type: 'string', value: (s) => s.house.key },
    { name: 'SCHOOL_YEAR', width: 4, type: 'string', value: (s) => String(s.year).padStart(2, '0') },
    { name: 'CAMPUS', width: 3, type: 'int', value: (s) => s.campus },
    { name: 'FAMILY', width: 10, type: 'string', value: (s) => s.family.key },
    { name: 'E_MAIL', width: 60, type: 'string', value: (s) => (hasSchoolAccount(s.status) ? s.email : null) },
    { name: 'MOBILE', width: 20, type: 'string', value: (s) => s.mobile },
    { name: 'STATUS', width: 4, type: 'string', value: (s) => s.status },
    { name: 'ENTRY', width: 8, type: 'date', value: (s) => date(s.entryDay) },
    { name: 'EXIT_DATE', width: 8, type: 'date', value: (s) => date(s.exitDay) },
  ],
  fieldMapping: {
    CASES_KEY: 'studentId',
    SURNAME: 'surname',
    FIRST_NAME: 'givenNames',
    BIRTHDATE: 'dob',
    GENDER: 'sex',
    HOME_GROUP: 'homeGroup',
    HOUSE: 'house',
    SCHOOL_YEAR: 'yearLevel',
    E_MAIL: 'email',
    MOBILE: 'phone',
    STATUS: 'status',
  },
};

const STAFF_FILE: FixedFile<StaffMember> = {
  filename: 'STAFF.DAT',
  table: 'SF',
  primaryKey: 'SFKEY',
  columns: [
    { name: 'SFKEY', width: 4, type: 'string', value: (s) => s.key },
    { name: 'SURNAME', width: 30, type: 'string', value: (s) => s.surname.toUpperCase() },
    { name: 'FIRST_NAME', width: 30, type: 'string', value: (s) => s.firstName },
    { name: 'PREF_NAME', width: 30, type: 'string', value: (s) => s.prefName },
    { name: 'TITLE', width: 4, type: 'string', value: (s) => s.title },
    { name: 'GENDER', width: 1, type: 'flag', value: (s) => s.gender },
    { name: 'BIRTHDATE', width: 8, type: 'date', value: (s) => date(s.birthDay) },
    { name: 'E_MAIL', width: 70, type: 'string', value: (s) => s.email },
    { name: 'MOBILE', width: 20, type: 'string', value: (s) => s.mobile },
    { name: 'FACULTY01', width: 10, type: 'string', value: (s) => s.faculty },
    { name: 'CAMPUS', width: 3, type: 'int', value: (s) => s.campus },
    { name: 'START', width: 8, type: 'date', value: (s) => date(s.startDay) },
    { name: 'FINISH', width: 8, type: 'date', value: (s) => date(s.finishDay) },
    { name: 'STAFF_TYPE', width: 1, type: 'flag', value: (s) => (s.status === 'LEFT' ? 'L' : s.faculty ? 'T' : 'N') },
    { name: 'STAFF_STATUS', width: 4, type: 'string', value: (s) => s.status },
    { name: 'PAYROLL_REC_NO', width: 9, type: 'string', value: (s) => s.payroll },
    { name: 'FTE', width: 4, type: 'float', value: (s) => s.fte.toFixed(1) },
  ],
  fieldMapping: {
    SFKEY: 'staffId',
    SURNAME: 'surname',
    FIRST_NAME: 'givenNames',
    PREF_NAME: 'preferredName',
    TITLE: 'title',
    GENDER: 'sex',
    E_MAIL: 'email',
    MOBILE: 'phone',
    FACULTY01: 'faculty',
    STAFF_STATUS: 'status',
    START: 'startDate',
    FINISH: 'endDate',
  },
};

/**
 * One record: text left-aligned and numbers right-aligned, each padded with spaces to its width.
 * A value that does not fit, or that holds a line break or tab, is a generator bug and throws.
 */
function formatRecord<T>(file: FixedFile<T>, item: T): string {
  let line = '';
  for (const col of file.columns) {
    const raw = col.value(item);
    const text = raw === null ? '' : String(raw);
    if (text.length > col.width || /[\r\n\t]/.test(text)) {
      throw new Error(
        `${file.filename} ${col.name}: ${JSON.stringify(text)} does not fit ${col.width} characters on one line`,
      );
    }
    line += col.type === 'int' || col.type === 'float' ? text.padStart(col.width) : text.padEnd(col.width);
  }
  return `${line}\r\n`;
}

async function writeFixedFile<T>(dir: string, file: FixedFile<T>, items: Iterable<T>): Promise<GeneratedFile> {
  const sink = createTextSink(join(dir, file.filename));
  let rows = 0;
  try {
    for (const item of items) {
      const wait = sink.write(formatRecord(file, item));
      rows++;
      if (wait) await wait;
    }
  } catch (err) {
    await sink.close().catch(() => undefined);
    throw err;
  }
  return { name: file.filename, table: file.table, rows, bytes: await sink.close() };
}

/** The file_layouts entry for one fixed-width file, in the seed's shape plus `type`/`format`. */
function layoutJson<T>(file: FixedFile<T>, school: string): object {
  let start = 0;
  const columns = file.columns.map((c) => {
    const col = {
      name: c.name,
      start,
      width: c.width,
      type: c.type,
      ...(c.type === 'date' ? { format: 'yyyymmdd' } : {}),
    };
    start += c.width;
    return col;
  });
  return {
    filename: file.filename,
    table_name: `${file.table}_${school}`,
    primary_key: [file.primaryKey],
    columns,
    field_mapping: file.fieldMapping,
  };
}

/** Students of the eduHub sequence, drawn lazily so a large school streams. */
function* students(options: ResolvedOptions): Generator<Student> {
  const plan = planSchool(options.school, options.seed, options.students);
  const sequence = createStudentSequence(plan, { keepFamilies: false });
  for (let i = 0; i < options.students; i++) yield sequence.next();
}

/** The two files in the layout `options.fixedLayout` asks for (see fixed-variants.ts). */
function filesFor(options: ResolvedOptions): { student: FixedFile<Student>; staff: FixedFile<StaffMember> } {
  if (options.fixedLayout === 'seed') return { student: SEED_STUDENT_FILE, staff: SEED_STAFF_FILE };
  if (options.fixedLayout === 'varied')
    return { student: variedStudentFile(STUDENT_FILE, options.seed), staff: variedFile(STAFF_FILE, options.seed) };
  return { student: STUDENT_FILE, staff: STAFF_FILE };
}

/** Writes STUDENT.DAT, STAFF.DAT and relationships.json into `options.outDir`. */
export async function writeFixedSchool(options: ResolvedOptions): Promise<GeneratedFile[]> {
  const { student, staff: staffLayout } = filesFor(options);
  const staff = makeStaff(planSchool(options.school, options.seed, options.students));
  const studentFile = await writeFixedFile(options.outDir, student, students(options));
  const staffFile = await writeFixedFile(options.outDir, staffLayout, staff.all);
  const relationships = {
    primary_keys: {
      [`${student.table}_${options.school}`]: [student.primaryKey],
      [`${staffLayout.table}_${options.school}`]: [staffLayout.primaryKey],
    },
    file_layouts: {
      [student.filename]: layoutJson(student, options.school),
      [staffLayout.filename]: layoutJson(staffLayout, options.school),
    },
  };
  const json = `${JSON.stringify(relationships, null, 2)}\n`;
  await writeFile(join(options.outDir, 'relationships.json'), json, 'utf8');
  return [studentFile, staffFile, { name: 'relationships.json', table: '', rows: 0, bytes: Buffer.byteLength(json) }];
}
