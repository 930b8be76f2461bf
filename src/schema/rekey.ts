import { EtlError } from '../errors/index.js';
import { SCHOOL_COLUMN, type MirrorTable } from './mirror.js';

/**
 * Rebuilding a mirror table under its layout's key (`cases-etl migrate --rekey TABLE`). What may
 * be rekeyed, and what refuses, is decided here once; each store only knows how to read its
 * catalog, count, and swap the key on its own database, all inside one transaction.
 */

/** What a rekey did, or found there was nothing to do. */
export interface RekeyResult {
  /** Base CASES table: `DF`. */
  readonly table: string;
  /** Mirror table: `cases_df`. */
  readonly mirror: string;
  /** Key columns (SQL names, after `school_id`) the table had. */
  readonly oldKey: readonly string[];
  /** Key columns (SQL names, after `school_id`) it has now: the layout's. */
  readonly newKey: readonly string[];
  /** False when the table was already keyed by the layout's key: nothing was touched. */
  readonly changed: boolean;
  /** Rows in the table, every school's, active or not: all kept. */
  readonly rows: number;
  /**
   * Runs whose change history named the table, now marked `changes_pruned` with their etl_changes
   * rows deleted: their images identify rows by the old key, so they can no longer be undone.
   */
  readonly prunedRuns: readonly number[];
}

/** What the stored rows say about the new key: counted, never shown (they are personal data). */
export interface RekeyCounts {
  readonly rows: number;
  /** Rows with no value in at least one new key column. */
  readonly nullRows: number;
  /** Rows that share their new key with another row of the same school. */
  readonly duplicateRows: number;
  /** Distinct (school, new key) values held by more than one row. */
  readonly duplicateKeys: number;
}

const show = (cols: readonly string[]): string => cols.map((c) => c.toUpperCase()).join(', ') || '(none)';

/** `school_id, a, b` as the database lists a primary key → `a, b`. */
export function keyAfterSchool(primaryKey: readonly string[]): string[] {
  return primaryKey.filter((c) => c !== SCHOOL_COLUMN);
}

/**
 * Checks the table can take the layout's key, from its catalog: it exists (`columns` is not
 * empty), the layout has a key, and the table has every key column. Returns whether the key
 * differs from `currentKey` (the table's primary key, `school_id` first); throws
 * ETL_LAYOUT_REKEY_REFUSED otherwise.
 */
export function assertRekeyable(
  mirror: MirrorTable,
  columns: ReadonlySet<string>,
  currentKey: readonly string[],
): boolean {
  const refuse = (why: string): never => {
    throw new EtlError('ETL_LAYOUT_REKEY_REFUSED', `cannot rekey table ${mirror.table} (${mirror.name}): ${why}`);
  };
  if (columns.size === 0)
    refuse('there is no such mirror table in the database (nothing to rekey: the next run creates it)');
  if (mirror.key.length === 0) refuse('its layout has no primary key');
  const missing = mirror.key.filter((c) => !columns.has(c));
  if (missing.length > 0) {
    refuse(
      `the table has no column ${show(missing)} of the layout's key ${show(mirror.key)} (load a file with it first)`,
    );
  }
  const wanted = [SCHOOL_COLUMN, ...mirror.key];
  return !(currentKey.length === wanted.length && currentKey.every((c, i) => c === wanted[i]));
}

/**
 * Refuses the new key when stored rows could not hold it: empty key values, or two rows of one
 * school with the same key. The message gives counts and column names only.
 */
export function assertKeyHolds(mirror: MirrorTable, counts: RekeyCounts): void {
  const problems: string[] = [];
  if (counts.nullRows > 0)
    problems.push(`${counts.nullRows} of ${counts.rows} rows have no value in ${show(mirror.key)}`);
  if (counts.duplicateRows > 0) {
    const shared = `${counts.duplicateRows} rows share ${counts.duplicateKeys} values of ${show(mirror.key)}`;
    problems.push(`${shared} with another row of the same school`);
  }
  if (problems.length === 0) return;
  throw new EtlError(
    'ETL_LAYOUT_REKEY_REFUSED',
    `cannot rekey table ${mirror.table} (${mirror.name}) to ${show(mirror.key)}: ${problems.join('; ')}; nothing was changed`,
  );
}
