import { SCHOOL_COLUMN } from '../../schema/index.js';

/**
 * Quoting, and the statements that rebuild a mirror table under a new key. The ledger's fixed
 * statements are in ledger.ts, the mirror tables' DDL in mirror.ts. Identifiers are always
 * quoted: CASES column names include SQL words (CLASS, ORDER-like names) and views use mixed-case
 * fields.
 */

export const q = (name: string): string => `"${name.replace(/"/g, '""')}"`;

// ---------------------------------------------------------------------------------------------
// Rekeying a mirror table (cases-etl migrate --rekey): SQLite cannot change a primary key in
// place, so the table is rebuilt under its own name.

/** A column as `pragma_table_info` describes it. */
export interface TableColumnInfo {
  readonly name: string;
  readonly type: string;
  readonly notnull: number;
  readonly dflt_value: string | null;
  /** Position in the primary key from 1; 0 when not in it. */
  readonly pk: number;
}

/** ? table: its columns in order, as declared. */
export const TABLE_COLUMNS = 'SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?) ORDER BY cid';

/** ? table: its own indexes and triggers (not the primary key's), to make again on the rebuilt table. */
export const TABLE_EXTRAS = `SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY rowid`;

/** Counts what stops the table taking `key`: see the PostgreSQL adapter's rekeyCountsSql. */
export function rekeyCountsSql(table: string, key: readonly string[]): string {
  const anyNull = key.map((c) => `${q(c)} IS NULL`).join(' OR ');
  const noNull = key.map((c) => `${q(c)} IS NOT NULL`).join(' AND ');
  return `SELECT (SELECT count(*) FROM ${q(table)}) AS rows,
    (SELECT count(*) FROM ${q(table)} WHERE ${anyNull}) AS null_rows,
    coalesce(sum(d.n), 0) AS duplicate_rows, count(d.n) AS duplicate_keys
    FROM (SELECT count(*) AS n FROM ${q(table)} WHERE ${noNull} GROUP BY ${[SCHOOL_COLUMN, ...key].map(q).join(', ')}
          HAVING count(*) > 1) AS d`;
}

/** A table with exactly `columns` (types, NOT NULL and defaults as declared) and `school_id` + `key` as its key. */
export function rebuiltMirrorSql(name: string, columns: readonly TableColumnInfo[], key: readonly string[]): string {
  const defs = columns.map((c) => {
    const notNull = c.notnull ? ' NOT NULL' : '';
    const dflt = c.dflt_value === null ? '' : ` DEFAULT ${c.dflt_value}`;
    return `  ${q(c.name)}${c.type ? ` ${c.type}` : ''}${notNull}${dflt},`;
  });
  return [
    `CREATE TABLE ${q(name)} (`,
    ...defs,
    `  PRIMARY KEY (${[SCHOOL_COLUMN, ...key].map(q).join(', ')})`,
    ')',
  ].join('\n');
}

/** Every row of `from` into `to`, with its rowid, in rowid order. */
export function copyRowsSql(from: string, to: string, columns: readonly string[]): string {
  const list = ['rowid', ...columns.map(q)].join(', ');
  return `INSERT INTO ${q(to)} (${list}) SELECT ${list} FROM ${q(from)} ORDER BY rowid`;
}

export function dropTableSql(name: string): string {
  return `DROP TABLE ${q(name)}`;
}

export function renameTableSql(from: string, to: string): string {
  return `ALTER TABLE ${q(from)} RENAME TO ${q(to)}`;
}
