import { resolve } from 'node:path';

import { EtlError } from '../errors/index.js';

/**
 * The one typed configuration, built from the environment once at start-up. Every variable is
 * described in VARIABLES (the README's configuration table is checked against it), every problem
 * is reported together, and the result is frozen. No other module reads process.env.
 */
export interface Config {
  /** Folder CASES21 drops its nightly export into (CASES_DIRECTORY); null until set or passed as --source. */
  readonly sourceDirectory: string | null;
  /** relationships.json path (CASES_RELATIONSHIPS_JSON), default ./relationships.json. */
  readonly relationshipsPath: string;
  /** Whether relationships.json was named explicitly: then a missing file is an error, not "built-ins only". */
  readonly relationshipsExplicit: boolean;
  /** School id for fixed-width files, which carry none in their name (CASES_SCHOOL_ID). */
  readonly schoolId: string | null;
  /** Base tables a run must have (ETL_REQUIRED_TABLES), default ST and SF. */
  readonly requiredTables: readonly string[];
  /** A file whose size or mtime changed within this many milliseconds is still being written (ETL_FILE_STABLE_MS), default 2000. */
  readonly fileStableMs: number;
  /** Longest wait, in milliseconds, for a changing file to settle before it is skipped (ETL_FILE_STABLE_TIMEOUT_MS), default 60000. */
  readonly fileStableTimeoutMs: number;
  /** Share of rejected rows above which a run fails (ETL_MAX_ERROR_RATE), 0–1, default 0.10. */
  readonly maxErrorRate: number;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

export interface Variable {
  readonly name: string;
  readonly description: string;
  readonly default: string;
}

/** Every environment variable cases-etl reads, for docs and `--help`. */
export const VARIABLES: readonly Variable[] = [
  { name: 'CASES_DIRECTORY', default: '(none; or --source)', description: 'Folder the nightly CASES21 export is written to.' },
  { name: 'CASES_RELATIONSHIPS_JSON', default: './relationships.json', description: 'relationships.json with primary_keys, relationships and optional file_layouts. The default path may be absent (built-in layouts only); a path you set must exist.' },
  { name: 'CASES_SCHOOL_ID', default: '(none)', description: 'School number for fixed-width .DAT files, whose names carry none. Falls back to the site in the layout\'s table_name.' },
  { name: 'ETL_REQUIRED_TABLES', default: 'ST,SF', description: 'Comma-separated tables an export must contain; layouts marked "required": true are added.' },
  { name: 'ETL_FILE_STABLE_MS', default: '2000', description: 'A file modified this recently is re-checked until its size and mtime stop changing.' },
  { name: 'ETL_FILE_STABLE_TIMEOUT_MS', default: '60000', description: 'How long to wait for a changing file before skipping it for this run.' },
  { name: 'ETL_MAX_ERROR_RATE', default: '0.10', description: 'Share of rejected rows (0–1) above which a run is failed.' },
];

function text(v: string | undefined): string | null {
  const t = v?.trim();
  return t ? t : null;
}

function nonNegativeInt(name: string, raw: string | undefined, fallback: number): Parsed<number> {
  const t = text(raw);
  if (t === null) return { ok: true, value: fallback };
  if (!/^\d+$/.test(t)) return { ok: false, problem: `${name}=${JSON.stringify(raw)} must be a whole number of 0 or more` };
  return { ok: true, value: Number(t) };
}

function fraction(name: string, raw: string | undefined, fallback: number): Parsed<number> {
  const t = text(raw);
  if (t === null) return { ok: true, value: fallback };
  const n = Number(t);
  if (!Number.isFinite(n) || n < 0 || n > 1) return { ok: false, problem: `${name}=${JSON.stringify(raw)} must be a number from 0 to 1 (e.g. 0.10)` };
  return { ok: true, value: n };
}

function tableList(name: string, raw: string | undefined, fallback: readonly string[]): Parsed<readonly string[]> {
  const t = text(raw);
  if (t === null) return { ok: true, value: fallback };
  const items = t.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
  const bad = items.filter((s) => !/^[A-Z][A-Z0-9]*$/.test(s));
  if (bad.length > 0) return { ok: false, problem: `${name} has ${bad.map((b) => JSON.stringify(b)).join(', ')}, which ${bad.length === 1 ? 'is not a table name' : 'are not table names'} (e.g. ST,SF)` };
  return { ok: true, value: items };
}

/** Values given on the command line, which win over the environment. */
export interface ConfigOverrides {
  sourceDirectory?: string | undefined;
  schoolId?: string | undefined;
}

/**
 * Builds the configuration from `env` (normally process.env) and command-line overrides.
 * Throws ETL_CONFIG_INVALID listing every problem.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>, overrides: ConfigOverrides = {}): Config {
  const problems: string[] = [];
  const take = <T>(p: Parsed<T>, fallback: T): T => {
    if (p.ok) return p.value;
    problems.push(p.problem);
    return fallback;
  };

  const schoolId = text(overrides.schoolId) ?? text(env.CASES_SCHOOL_ID);
  if (schoolId !== null && !/^[A-Za-z0-9]+$/.test(schoolId)) {
    problems.push(`CASES_SCHOOL_ID=${JSON.stringify(schoolId)} must be letters and digits only (e.g. 8865)`);
  }
  const relationships = text(env.CASES_RELATIONSHIPS_JSON);
  const source = text(overrides.sourceDirectory) ?? text(env.CASES_DIRECTORY);

  const config: Config = {
    sourceDirectory: source === null ? null : resolve(source),
    relationshipsPath: resolve(relationships ?? './relationships.json'),
    relationshipsExplicit: relationships !== null,
    schoolId,
    requiredTables: take(tableList('ETL_REQUIRED_TABLES', env.ETL_REQUIRED_TABLES, ['ST', 'SF']), []),
    fileStableMs: take(nonNegativeInt('ETL_FILE_STABLE_MS', env.ETL_FILE_STABLE_MS, 2000), 0),
    fileStableTimeoutMs: take(nonNegativeInt('ETL_FILE_STABLE_TIMEOUT_MS', env.ETL_FILE_STABLE_TIMEOUT_MS, 60_000), 0),
    maxErrorRate: take(fraction('ETL_MAX_ERROR_RATE', env.ETL_MAX_ERROR_RATE, 0.1), 0.1),
  };

  if (problems.length > 0) {
    throw new EtlError('ETL_CONFIG_INVALID', `configuration has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n  ${problems.join('\n  ')}`, { problems });
  }
  return Object.freeze(config);
}
