import { EtlError } from '../errors/index.js';
import type { ColumnLayout, ColumnType, TableLayout } from '../layouts/index.js';

/**
 * The mirror of one CASES table: `cases_<table>` with `school_id`, every CASES column in lower
 * case, and bookkeeping. Described here as data; each store turns it into its own DDL.
 */

export interface MirrorColumn {
  /** SQL column name: the CASES name in lower case. */
  readonly name: string;
  /** The CASES column name. */
  readonly source: string;
  readonly type: ColumnType;
  /** What the column means (eduHub's description), for comments and the column catalogue. */
  readonly description?: string | null;
}

export interface MirrorTable {
  /** Base CASES table: `ST`. */
  readonly table: string;
  /** SQL table name: `cases_st`. */
  readonly name: string;
  /** Key columns (SQL names), after `school_id`. */
  readonly key: readonly string[];
  readonly columns: readonly MirrorColumn[];
  /** What the table holds (eduHub's description: `Students`), for comments and the column catalogue. */
  readonly description?: string | null;
}

/** Bookkeeping columns every mirror table has, after the CASES columns. */
export const BOOKKEEPING = {
  /** false once the row has gone from a full extract; true again when it returns. */
  active: '_active',
  /** Row hash over the CASES values (see load/hash.ts). */
  hash: '_hash',
  /** Run that first inserted the row. */
  insertedRun: '_inserted_run',
  /** Run that last inserted, changed, deactivated or reactivated the row. */
  changedRun: '_changed_run',
  /** Run that deactivated the row; null while active. */
  deactivatedRun: '_deactivated_run',
  /**
   * Hash of the line the row's values were read from (see extract/line-hash.ts), so a re-run can
   * count an unchanged line without reading it; null when not known. Tables made before it
   * existed gain it (null) and fill it as their rows are read again.
   */
  lineHash: '_line_hash',
} as const;

/** Bookkeeping columns added after a mirror table may have been created: ensureMirror adds them. */
export const LATER_BOOKKEEPING: readonly MirrorColumn[] = [
  { name: BOOKKEEPING.lineHash, source: BOOKKEEPING.lineHash, type: 'string' },
];

export const SCHOOL_COLUMN = 'school_id';

/** What the loader's own columns mean, for comments and the column catalogue. */
export const OWN_COLUMN_DESCRIPTIONS: Readonly<Record<string, string>> = {
  [SCHOOL_COLUMN]: 'School number: the site in the export file names (ST_8865.csv is school 8865)',
  [BOOKKEEPING.active]:
    'False once the row has gone from a full extract (rows are never deleted); true again when it returns',
  [BOOKKEEPING.hash]: 'cases-etl: hash of the row values, to tell a changed row',
  [BOOKKEEPING.insertedRun]: 'cases-etl: the run (etl_runs.id) that first inserted the row',
  [BOOKKEEPING.changedRun]:
    'cases-etl: the run (etl_runs.id) that last inserted, changed, deactivated or reactivated the row',
  [BOOKKEEPING.deactivatedRun]: 'cases-etl: the run (etl_runs.id) that deactivated the row; null while active',
  [BOOKKEEPING.lineHash]: 'cases-etl: hash of the line the row was read from, so a re-run can skip it',
};

/** What a mirror table holds, in a sentence: its comment on PostgreSQL. */
export function mirrorDescription(m: MirrorTable): string {
  const what = m.description ? `${m.description} (CASES21 table ${m.table})` : `CASES21 table ${m.table}`;
  return `${what}, as the school's exports last gave it: one row per school and key, never deleted (_active is false once a row has left the export).`;
}

/** `ST` → `cases_st`. */
export function mirrorTableName(table: string): string {
  return `cases_${table.toLowerCase()}`;
}

/**
 * The mirror column a CASES column is stored in: its name in lower case, except that a CASES
 * column called SCHOOL_ID (eduHub's SKGS, KFLO and KPRMS describe other schools) is stored as
 * `cases_school_id`, since `school_id` is the mirror's own school column and must never take a
 * value from a file.
 */
export function mirrorColumnName(casesName: string): string {
  const lower = casesName.toLowerCase();
  return lower === SCHOOL_COLUMN ? CASES_SCHOOL_COLUMN : lower;
}

/** Where a CASES column named SCHOOL_ID is kept (see mirrorColumnName). */
export const CASES_SCHOOL_COLUMN = 'cases_school_id';

function mirrorColumn(c: ColumnLayout): MirrorColumn {
  return { name: mirrorColumnName(c.name), source: c.name, type: c.type, description: c.description };
}

/**
 * The mirror for a layout plus the columns one file brought (a profile table's header, or
 * columns a new CASES release added): layout columns first, then file-only columns as text.
 */
export function mirrorFor(layout: TableLayout, fileColumns: readonly ColumnLayout[]): MirrorTable {
  const columns = layout.columns.map(mirrorColumn);
  const known = new Set(columns.map((c) => c.name));
  for (const c of fileColumns) {
    const m = mirrorColumn(c);
    if (!known.has(m.name)) {
      columns.push(m);
      known.add(m.name);
    }
  }
  return {
    table: layout.table,
    name: mirrorTableName(layout.table),
    key: (layout.primaryKey ?? []).map(mirrorColumnName),
    columns,
    description: layout.description,
  };
}

/** Columns a table must gain: in `wanted` or later bookkeeping, but not among `existing` (SQL names). */
export function missingColumns(wanted: MirrorTable, existing: ReadonlySet<string>): MirrorColumn[] {
  return [...wanted.columns, ...LATER_BOOKKEEPING].filter((c) => !existing.has(c.name));
}

/**
 * Refuses to load into a mirror table whose primary key (SQL names, `school_id` first, as the
 * database has it) is not the one the layout gives: rows would be matched on the wrong columns,
 * or on a column with no unique index. Empty `existing` means the table is new or not yet keyed.
 */
export function assertSameKey(mirror: MirrorTable, existing: readonly string[]): void {
  if (existing.length === 0) return;
  const wanted = [SCHOOL_COLUMN, ...mirror.key];
  if (existing.length === wanted.length && existing.every((c, i) => c === wanted[i])) return;
  const show = (cols: readonly string[]): string =>
    cols
      .filter((c) => c !== SCHOOL_COLUMN)
      .map((c) => c.toUpperCase())
      .join(', ') || '(none)';
  throw new EtlError(
    'ETL_LAYOUT_KEY_CHANGED',
    `table ${mirror.table} (${mirror.name}) is keyed on ${show(existing)} in the database, but its layout's key is ${show(wanted)}: ` +
      `run \`cases-etl migrate --rekey ${mirror.table}\` to rebuild it under the new key, or give the layout a different table_name`,
  );
}
