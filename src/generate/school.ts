import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

import { builtinLayout, createCsvTableWriter, type CsvTableWriter } from './csv-writer.js';
import { writeFixedSchool } from './fixed.js';
import { resolveOptions, type GenerateOptions, type GeneratedFile, type ResolvedOptions } from './options.js';
import { createStudentSequence } from './people.js';
import { planSchool } from './plan.js';
import { createRandom } from './random.js';
import { makeStaff } from './staff.js';
import { createStudentTally } from './tally.js';
import { writeAbsences } from './tables/absences.js';
import type { SchoolContext } from './tables/common.js';
import { writeClasses, writeEnrolments, writeSubjects } from './tables/curriculum.js';
import { writeFamilies, writeStaffAddresses } from './tables/families.js';
import {
  writeAbsenceTypes,
  writeCampuses,
  writeCountries,
  writeFaculties,
  writeHomeGroups,
  writeHouses,
  writeRooms,
  writeYearLevels,
} from './tables/reference.js';
import { writeStaff } from './tables/staff.js';
import { writeStudents } from './tables/students.js';

/** The eduHub tables the sample school consists of, in the order they are written. */
export const EDUHUB_TABLES = [
  'ST',
  'DF',
  'UM',
  'SF',
  'SCI',
  'KCY',
  'KGC',
  'KGH',
  'KSF',
  'SM',
  'SU',
  'STMA',
  'SCL',
  'SXAB',
  'KCT',
  'KGT',
] as const;

/**
 * Opens `<TABLE>_<SCHOOL>.csv`, lets `fill` write its rows and closes it. On failure the file
 * is closed before the error propagates, so no handle outlives a failed run.
 */
async function writeTable(
  options: ResolvedOptions,
  table: string,
  fill: (w: CsvTableWriter) => Promise<void>,
): Promise<GeneratedFile> {
  const writer = createCsvTableWriter(join(options.outDir, `${table}_${options.school}.csv`), builtinLayout(table));
  try {
    await fill(writer);
  } catch (err) {
    await writer.close().catch(() => undefined);
    throw err;
  }
  return writer.close();
}

async function writeEduhubSchool(options: ResolvedOptions): Promise<GeneratedFile[]> {
  const plan = planSchool(options.school, options.seed, options.students);
  const staff = makeStaff(plan);
  const tally = createStudentTally();
  const ctx: SchoolContext = { plan, staff, tally };
  const sequence = createStudentSequence(plan, { keepFamilies: true });
  const files: GeneratedFile[] = [];
  const add = async (table: string, fill: (w: CsvTableWriter) => Promise<void>): Promise<void> => {
    files.push(await writeTable(options, table, fill));
  };

  // Students first: the pass draws the families and counts the groups the other tables report.
  await add('ST', (w) => writeStudents(w, sequence, options.students, createRandom(options.seed, 'ST'), tally.add));

  // DF and UM are written together so each family's address key is known as the family is written.
  let staffAddressKey = 0;
  const um: GeneratedFile[] = [];
  await add('DF', async (df) => {
    um.push(
      await writeTable(options, 'UM', async (umWriter) => {
        staffAddressKey = await writeFamilies(df, umWriter, sequence.families, ctx);
        await writeStaffAddresses(umWriter, staff.all, staffAddressKey, plan.seed);
      }),
    );
  });
  files.push(...um);

  await add('SF', (w) => writeStaff(w, ctx, staffAddressKey));
  await add('SCI', (w) => writeCampuses(w, ctx));
  await add('KCY', (w) => writeYearLevels(w, ctx));
  await add('KGC', (w) => writeHomeGroups(w, ctx));
  await add('KGH', (w) => writeHouses(w, ctx));
  await add('KSF', (w) => writeFaculties(w, ctx));
  await add('SM', (w) => writeRooms(w, ctx));
  await add('SU', (w) => writeSubjects(w, ctx));
  let seats = new Map<string, number>();
  await add('STMA', async (w) => {
    seats = await writeEnrolments(w, ctx);
  });
  await add('SCL', (w) => writeClasses(w, ctx, seats));
  await add('SXAB', (w) => writeAbsences(w, ctx));
  await add('KCT', (w) => writeAbsenceTypes(w, ctx));
  await add('KGT', (w) => writeCountries(w, ctx));
  return files;
}

/**
 * Writes a deterministic sample school into `options.outDir`: by default the eduHub CSV files
 * `<TABLE>_<SCHOOL>.csv` for EDUHUB_TABLES (Windows-1252, CRLF, every built-in column), or with
 * `format: 'fixed'` the fixed-width STUDENT.DAT and STAFF.DAT plus the relationships.json that
 * describes them. Defaults: school 8865, 1500 students, seed 1. Files are streamed, so 100,000
 * students need little memory. Same options, byte-identical files.
 */
export async function generateSchool(options: GenerateOptions): Promise<{ files: GeneratedFile[] }> {
  const resolved = resolveOptions(options);
  await mkdir(resolved.outDir, { recursive: true });
  const files = resolved.format === 'fixed' ? await writeFixedSchool(resolved) : await writeEduhubSchool(resolved);
  return { files };
}
