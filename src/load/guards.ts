import type { ErrorCode } from '../errors/index.js';
import type { LoadMode } from '../layouts/index.js';

/**
 * Guard rails, checked before anything is published. Pure: the facts of the run in, the trips
 * out. A tripped guard fails the run and publishes nothing, unless it was overridden for this
 * one run, in which case the trip is still recorded.
 */

export interface GuardFile {
  readonly name: string;
  readonly table: string;
  readonly mode: LoadMode;
  readonly records: number;
  readonly rows: number;
  readonly rejected: number;
  /** Set when the file could not be read as a table. */
  readonly error: string | null;
}

export interface GuardInput {
  readonly files: readonly GuardFile[];
  /** Required tables with no file at all. */
  readonly missingRequired: readonly string[];
  /** Tables sent twice tonight (discovery's `FileSet.conflicts`), each with its message. */
  readonly conflicts?: readonly { readonly message: string }[];
  readonly requiredTables: ReadonlySet<string>;
  /** Rows of each table's last published full load. */
  readonly lastPublishedRows: ReadonlyMap<string, number>;
  readonly maxErrorRate: number;
  readonly maxShrink: number;
  /** Override every guard rail for this run (`--override-guards`), recorded. */
  readonly overrideGuards: boolean;
  /** Override the shrink and empty-file guards only (`--allow-shrink`), recorded. */
  readonly allowShrink: boolean;
}

export interface GuardTrip {
  readonly code: Extract<ErrorCode, `ETL_GUARD_${string}`> | 'ETL_SOURCE_DUPLICATE_TABLE';
  readonly message: string;
  /** The run was told to go ahead anyway (--override-guards, --allow-shrink). */
  readonly overridden: boolean;
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

export function evaluateGuards(input: GuardInput): GuardTrip[] {
  const trips: GuardTrip[] = [];
  const trip = (code: GuardTrip['code'], message: string, overridden: boolean): void =>
    void trips.push({ code, message, overridden });

  const all = input.overrideGuards;
  // Not even --override-guards publishes a night with two files for one table: which is the
  // table is not a risk to accept but a question only the school can answer.
  for (const c of input.conflicts ?? []) trip('ETL_SOURCE_DUPLICATE_TABLE', c.message, false);
  for (const table of input.missingRequired) trip('ETL_GUARD_REQUIRED', `required table ${table} has no file`, all);
  // A night is one unit: publishing staff without students would hide that the students are stale.
  for (const f of input.files) {
    if (!f.error) continue;
    if (input.requiredTables.has(f.table))
      trip('ETL_GUARD_REQUIRED', `required table ${f.table} could not be read from ${f.name}: ${f.error}`, all);
    else trip('ETL_GUARD_UNREADABLE', `table ${f.table} could not be read from ${f.name}: ${f.error}`, all);
  }

  const records = input.files.reduce((n, f) => n + f.records, 0);
  const rejected = input.files.reduce((n, f) => n + f.rejected, 0);
  if (records > 0 && rejected / records > input.maxErrorRate) {
    trip(
      'ETL_GUARD_ERROR_RATE',
      `${pct(rejected / records)} of the run's rows were rejected (${rejected} of ${records}); the limit is ${pct(input.maxErrorRate)}`,
      all,
    );
  }
  const byTable = new Map<string, { records: number; rejected: number }>();
  for (const f of input.files) {
    const t = byTable.get(f.table) ?? { records: 0, rejected: 0 };
    t.records += f.records;
    t.rejected += f.rejected;
    byTable.set(f.table, t);
  }
  for (const [table, t] of byTable) {
    if (t.records > 0 && t.rejected / t.records > input.maxErrorRate) {
      trip(
        'ETL_GUARD_ERROR_RATE',
        `${pct(t.rejected / t.records)} of table ${table}'s rows were rejected (${t.rejected} of ${t.records}); the limit is ${pct(input.maxErrorRate)}`,
        all,
      );
    }
  }

  const shrinkOk = input.allowShrink || all;
  for (const f of input.files) {
    if (f.mode !== 'full' || f.error) continue;
    if (f.records === 0) {
      trip(
        'ETL_GUARD_EMPTY',
        `${f.name} is a full extract with no rows; loading it would mark every ${f.table} row inactive`,
        shrinkOk,
      );
      continue;
    }
    const last = input.lastPublishedRows.get(f.table);
    if (last !== undefined && last > 0 && f.rows < last * (1 - input.maxShrink)) {
      trip(
        'ETL_GUARD_SHRINK',
        `${f.name} has ${f.rows} rows, down ${pct(1 - f.rows / last)} from ${last} in the last published load; the limit is ${pct(input.maxShrink)}`,
        shrinkOk,
      );
    }
  }
  return trips;
}
