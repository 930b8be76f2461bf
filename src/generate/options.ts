import { EtlError } from '../errors/index.js';

/** What `generateSchool` writes. */
export interface GenerateOptions {
  /** Folder to write into; created if missing. Existing files of the same names are replaced. */
  outDir: string;
  /** School number used in file names and school fields (default `8865`): 1–6 letters or digits. */
  school?: string;
  /** Number of students (default 1500); every other table is scaled from it. */
  students?: number;
  /** Seed for the pseudo-random choices (default 1); the same options give byte-identical files. */
  seed?: number;
  /** `eduhub`: `<TABLE>_<SCHOOL>.csv` files (default); `fixed`: STUDENT.DAT, STAFF.DAT and relationships.json. */
  format?: 'eduhub' | 'fixed';
  /**
   * The fixed-width files' layout (default `cases`): `seed` is the seed system's example layout,
   * `varied` the CASES one with columns reordered, fields widened and numbers side by side, drawn
   * from the seed. Ignored for eduHub.
   */
  fixedLayout?: FixedLayout;
}

/** The layouts `generate --format fixed` can write (see GenerateOptions.fixedLayout). */
export const FIXED_LAYOUTS = ['cases', 'seed', 'varied'] as const;
export type FixedLayout = (typeof FIXED_LAYOUTS)[number];

/** One file the generator wrote. */
export interface GeneratedFile {
  /** File name inside the output folder, e.g. `ST_8865.csv`. */
  name: string;
  /** CASES21 base table the file holds (`ST`; `DF` for STUDENT.DAT, as the seed maps it); empty for relationships.json. */
  table: string;
  /** Data rows, not counting the header. */
  rows: number;
  /** File size in bytes. */
  bytes: number;
}

/** Options with defaults applied and checked. */
export interface ResolvedOptions {
  readonly outDir: string;
  readonly school: string;
  readonly students: number;
  readonly seed: number;
  readonly format: 'eduhub' | 'fixed';
  readonly fixedLayout: FixedLayout;
}

/** The largest school the generator will build: reference tables (rooms, home groups) stop scaling well past it. */
export const MAX_STUDENTS = 1_000_000;

/**
 * The school number must fit SCI.SCHOOL_LINK (8 characters) with a campus suffix, and appear in
 * file names, so it is kept to 1–6 letters or digits.
 */
export function assertSchool(school: string): void {
  if (!/^[A-Za-z0-9]{1,6}$/.test(school)) {
    throw new EtlError(
      'ETL_USAGE',
      `school must be 1–6 letters or digits (for example 8865), not ${JSON.stringify(school)}`,
    );
  }
}

/** Checks a count option: a whole number from `min` to `max`. */
export function assertCount(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new EtlError('ETL_USAGE', `${name} must be a whole number from ${min} to ${max}, not ${value}`);
  }
}

/** Checks a seed: any safe integer; it is reduced to 32 bits. */
export function normaliseSeed(seed: number): number {
  if (!Number.isSafeInteger(seed)) throw new EtlError('ETL_USAGE', `seed must be an integer, not ${seed}`);
  return seed >>> 0;
}

/** Applies defaults (school 8865, 1500 students, seed 1, eduHub format) and checks every option. */
export function resolveOptions(options: GenerateOptions): ResolvedOptions {
  const school = options.school ?? '8865';
  const students = options.students ?? 1500;
  const format = options.format ?? 'eduhub';
  if (typeof options.outDir !== 'string' || options.outDir === '')
    throw new EtlError('ETL_USAGE', 'outDir must name a folder');
  assertSchool(school);
  assertCount('students', students, 1, MAX_STUDENTS);
  if (format !== 'eduhub' && format !== 'fixed')
    throw new EtlError('ETL_USAGE', `format must be "eduhub" or "fixed", not ${JSON.stringify(format)}`);
  const fixedLayout = options.fixedLayout ?? 'cases';
  if (!FIXED_LAYOUTS.includes(fixedLayout))
    throw new EtlError(
      'ETL_USAGE',
      `fixedLayout must be one of ${FIXED_LAYOUTS.join(', ')}, not ${JSON.stringify(fixedLayout)}`,
    );
  return { outDir: options.outDir, school, students, seed: normaliseSeed(options.seed ?? 1), format, fixedLayout };
}
