import type { PoolClient } from 'pg';

import { mirrorTableName } from '../../schema/index.js';
import type { UndoCounts } from '../types.js';
import { dropTempSql, lit, q, RAISE_WORK_MEM } from './sql.js';

/**
 * Undoing a run on PostgreSQL, set-based whatever the run's size. The first change the run made
 * to each row is picked out once into a temporary table: for a row the run inserted, its after
 * image; for any other, its before image (a row changed twice, a full file then a delta, gets the
 * image from before the first). Each table then takes one DELETE (the rows the run inserted) and
 * one UPDATE (every other row gets its image back: every column, bookkeeping included). Images
 * are read through json_populate_record on the mirror's own row type, so values come back with
 * their real types (int and date keys compare as such), and a column the table gained after the
 * image was taken comes back null, as it was. A row to delete needs only its key, which is read
 * from the image column by column and cast to the key column's type: populating the whole row
 * type for each of a million inserted rows took two thirds of undoing a first load. No row
 * travels to Node.
 */

const temp = (name: string): string => `pg_temp.${q(name)}`;

/** $1 run id. Per table, in byte order as SQLite sorts: a key's first change in the run decides. */
export const PLAN_UNDO = `SELECT f.table_name, count(*) FILTER (WHERE f.op = 'insert')::integer AS deleted,
    count(*) FILTER (WHERE f.op <> 'insert')::integer AS restored
  FROM (SELECT DISTINCT ON (table_name, row_key) table_name, op FROM etl_changes WHERE run_id = $1 ORDER BY table_name, row_key, id) AS f
  GROUP BY f.table_name ORDER BY f.table_name COLLATE "C"`;

export function createFirstsSql(firsts: string): string {
  return `CREATE TEMP TABLE ${q(firsts)} (table_name text NOT NULL, op text NOT NULL, image json NOT NULL) ON COMMIT DROP`;
}

/**
 * $1 run id: each row's first change. The narrow min(id) per key is found first (a hash
 * aggregate, no sort), then only those changes are read whole, so the images are not sorted.
 */
export function fillFirstsSql(firsts: string): string {
  return `INSERT INTO ${temp(firsts)} (table_name, op, image)
  SELECT c.table_name, c.op, CASE WHEN c.op = 'insert' THEN c.after ELSE c.before END
  FROM etl_changes AS c
  JOIN (SELECT min(id) AS id FROM etl_changes WHERE run_id = $1 GROUP BY table_name, row_key) AS f ON f.id = c.id
  WHERE c.run_id = $1`;
}

/** Each table's statements read only its own rows of the temporary table. */
export function indexFirstsSql(firsts: string): string {
  return `CREATE INDEX ON ${temp(firsts)} (table_name, op)`;
}

export function analyzeFirstsSql(firsts: string): string {
  return `ANALYZE ${temp(firsts)}`;
}

export function countFirstsSql(firsts: string): string {
  return `SELECT table_name, count(*) FILTER (WHERE op = 'insert')::integer AS deleted, count(*) FILTER (WHERE op <> 'insert')::integer AS restored
  FROM ${temp(firsts)} GROUP BY table_name ORDER BY table_name COLLATE "C"`;
}

/** $1 schema, $2 table: its columns and their types, each primary key column with its place in the key. */
export const MIRROR_SHAPE = `SELECT a.attname AS name, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, array_position(i.indkey::int2[], a.attnum) AS key_position
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_catalog.pg_index i ON i.indrelid = c.oid AND i.indisprimary
  WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')
  ORDER BY a.attnum`;

/** The image as a row of the mirror, typed; keys the image lacks are null. */
function imageRow(firsts: string, table: string): string {
  return `${temp(firsts)} AS f, LATERAL json_populate_record(NULL::${q(table)}, f.image) AS r`;
}

/** A primary key column and its SQL type, as format_type gives it. */
export interface KeyColumn {
  readonly name: string;
  readonly type: string;
}

/** The mirror row is the image's: every primary key column (school_id first) equal, typed. */
function keyMatch(key: readonly KeyColumn[]): string {
  return key.map((k) => `m.${q(k.name)} = r.${q(k.name)}`).join(' AND ');
}

/**
 * $1 base CASES table: deletes the rows the run inserted, matched on the key read from each
 * image as text and cast to the column's type (what json_populate_record does with a scalar).
 */
export function deleteInsertedSql(firsts: string, table: string, key: readonly KeyColumn[]): string {
  const match = key.map((k) => `m.${q(k.name)} = (f.image ->> ${lit(k.name)})::${k.type}`).join(' AND ');
  return `DELETE FROM ${q(table)} AS m USING ${temp(firsts)} AS f
  WHERE f.table_name = $1 AND f.op = 'insert' AND ${match}`;
}

/** $1 base CASES table: writes every other changed row's before image back, bookkeeping included. */
export function restoreBeforeSql(
  firsts: string,
  table: string,
  key: readonly KeyColumn[],
  columns: readonly string[],
): string {
  return `UPDATE ${q(table)} AS m SET ${columns.map((c) => `${q(c)} = r.${q(c)}`).join(', ')}
  FROM ${imageRow(firsts, table)}
  WHERE f.table_name = $1 AND f.op <> 'insert' AND ${keyMatch(key)}`;
}

interface MirrorShape {
  /** Primary key columns in key order, school_id first. */
  readonly key: readonly KeyColumn[];
  /** Every other column: the CASES values and the bookkeeping. */
  readonly columns: readonly string[];
}

/** A mirror table's key and other columns, read from the catalog of `schema`. */
async function mirrorShape(client: PoolClient, schema: string, table: string): Promise<MirrorShape> {
  const rows = (
    await client.query<{ name: string; type: string; key_position: number | null }>(MIRROR_SHAPE, [schema, table])
  ).rows;
  if (rows.length === 0) throw new Error(`cannot undo changes to ${schema}.${table}: the table does not exist`);
  const key = rows
    .filter((r) => r.key_position !== null)
    .sort((a, b) => (a.key_position ?? 0) - (b.key_position ?? 0))
    .map((r) => ({ name: r.name, type: r.type }));
  if (key.length === 0) throw new Error(`cannot undo changes to ${schema}.${table}: the table has no primary key`);
  return { key, columns: rows.filter((r) => r.key_position === null).map((r) => r.name) };
}

type CountRow = { table_name: string; deleted: number; restored: number };

const toCounts = (rows: readonly CountRow[]): UndoCounts[] =>
  rows.map((r) => ({ table: r.table_name, deleted: Number(r.deleted), restored: Number(r.restored) }));

/** Per table, what undoing `runId` would do, changing nothing. */
export async function planUndoPostgres(client: PoolClient, runId: number): Promise<UndoCounts[]> {
  await client.query(RAISE_WORK_MEM);
  return toCounts((await client.query<CountRow>(PLAN_UNDO, [runId])).rows);
}

/**
 * Undoes `runId` through the temporary table `firsts` (a name unique within the transaction) and
 * returns what it did per table: the rows its DELETE and UPDATE really affected, not what the
 * change log says, so a row the log names but the mirror no longer matches is not counted.
 */
export async function undoRunPostgres(
  client: PoolClient,
  schema: string,
  firsts: string,
  runId: number,
): Promise<UndoCounts[]> {
  await client.query(RAISE_WORK_MEM);
  await client.query(createFirstsSql(firsts));
  await client.query(fillFirstsSql(firsts), [runId]);
  await client.query(indexFirstsSql(firsts));
  await client.query(analyzeFirstsSql(firsts));
  const logged = toCounts((await client.query<CountRow>(countFirstsSql(firsts))).rows);
  const counts: UndoCounts[] = [];
  for (const c of logged) {
    const table = mirrorTableName(c.table);
    const shape = await mirrorShape(client, schema, table);
    const deleted =
      c.deleted > 0 ? ((await client.query(deleteInsertedSql(firsts, table, shape.key), [c.table])).rowCount ?? 0) : 0;
    const restored =
      c.restored > 0
        ? ((await client.query(restoreBeforeSql(firsts, table, shape.key, shape.columns), [c.table])).rowCount ?? 0)
        : 0;
    counts.push({ table: c.table, deleted, restored });
  }
  // Dropped now, not at commit: a cascade undoes several runs in one transaction.
  await client.query(dropTempSql(firsts));
  return counts;
}
