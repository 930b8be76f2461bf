import { builtinLayout, createCsvTableWriter } from './csv-writer.js';
import { assertCount, assertSchool, normaliseSeed, type GeneratedFile } from './options.js';
import { createStudentSequence } from './people.js';
import { planSchool } from './plan.js';
import { createRandom } from './random.js';
import { writeStudents } from './tables/students.js';

/** The most rows `writeStudentsFile` writes: STKEY and REGISTRATION stay unique well past it. */
export const MAX_STUDENT_ROWS = 10_000_000;

/**
 * Streams a single eduHub ST (students) file of `rows` students to `path`: for benchmarks of
 * 1,000,000 rows. Same rules as the ST file of `generateSchool` (unique STKEY and REGISTRATION,
 * Windows-1252, CRLF); memory stays flat because families are not kept. Defaults: seed 1,
 * school 8865.
 */
export async function writeStudentsFile(
  path: string,
  options: { rows: number; seed?: number; school?: string },
): Promise<GeneratedFile> {
  const school = options.school ?? '8865';
  assertSchool(school);
  assertCount('rows', options.rows, 0, MAX_STUDENT_ROWS);
  const seed = normaliseSeed(options.seed ?? 1);
  const plan = planSchool(school, seed, Math.max(1, options.rows));
  const writer = createCsvTableWriter(path, builtinLayout('ST'));
  try {
    await writeStudents(
      writer,
      createStudentSequence(plan, { keepFamilies: false }),
      options.rows,
      createRandom(seed, 'ST'),
    );
  } catch (err) {
    // Release the file handle; the generation error is the one worth reporting.
    await writer.close().catch(() => undefined);
    throw err;
  }
  return writer.close();
}
