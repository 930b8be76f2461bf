import type { PoolClient } from 'pg';

import { BOOKKEEPING, mirrorTableName } from '../../schema/index.js';
import type { UndoCounts } from '../types.js';
import { dropTempSql, lit, q, RAISE_WORK_MEM } from './sql.js';

/**
 * Undoing a run on PostgreSQL, set-based whatever the run's size. The first change the run made
 * to each row is picked out once into a temporary table: for a row the run inserted, its after
 * image; for any other, its before image (a row changed twice, a full file then a delta, gets the
 * image from before the first). Each table then takes one DELETE (the rows the run inserted), one
 * UPDATE for the rows it deactivated (their bookkeeping back) and one for every other row (its
 * image back: every column, bookkeeping included). Images
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

/**
 * `row_key` and `id` are kept only for a row whose first change is a deactivation the run then
 * followed with another change (a delta after the full file): see mergeLaterSql.
 */
export function createFirstsSql(firsts: string): string {
  return `CREATE TEMP TABLE ${q(firsts)} (table_name text NOT NULL, op text NOT NULL, image json NOT NULL, row_key text, id bigint) ON COMMIT DROP`;
}

/**
 * $1 run id: each row's first change. The narrow min(id) per key is found first (a hash
 * aggregate, no sort), then only those changes are read whole, so the images are not sorted.
 */
export function fillFirstsSql(firsts: string): string {
  const later = `c.op = 'deactivate' AND f.n > 1`;
  return `INSERT INTO ${temp(firsts)} (table_name, op, image, row_key, id)
  SELECT c.table_name, c.op, CASE WHEN c.op = 'insert' THEN c.after ELSE c.before END,
    CASE WHEN ${later} THEN c.row_key END, CASE WHEN ${later} THEN c.id END
  FROM etl_changes AS c
  JOIN (SELECT min(id) AS id, count(*) AS n FROM etl_changes WHERE run_id = $1 GROUP BY table_name, row_key) AS f ON f.id = c.id
  WHERE c.run_id = $1`;
}

/**
 * $1 run id. A deactivation's image holds only the bookkeeping it changed (flagsImageSql); when
 * the run changed the row again afterwards, the values to restore are in that next change's
 * before image (the row as deactivated, values as they were before the run), with the
 * deactivation's bookkeeping laid over it: the row's full image from before the run.
 */
export function mergeLaterSql(firsts: string): string {
  return `UPDATE ${temp(firsts)} AS f SET op = 'update', image = (l.before::jsonb || f.image::jsonb)::json, row_key = NULL
  FROM (SELECT DISTINCT ON (d.table_name, d.row_key) d.table_name, d.row_key, c.before
    FROM ${temp(firsts)} AS d
    JOIN etl_changes AS c ON c.run_id = $1 AND c.table_name = d.table_name AND c.row_key = d.row_key AND c.id > d.id
    WHERE d.row_key IS NOT NULL
    ORDER BY d.table_name, d.row_key, c.id) AS l
  WHERE f.row_key IS NOT NULL AND f.table_name = l.table_name AND f.row_key = l.row_key`;
}

/** Each table's statements read only its own rows of the temporary table. */
export function indexFirstsSql(firsts: string): string {
  return `CREATE INDEX ON ${temp(firsts)} (table_name, op)`;
}

export function analyzeFirstsSql(firsts: string): string {
  return `ANALYZE ${temp(firsts)}`;
}

export function countFirstsSql(firsts: string): string {
  return `SELECT table_name, count(*) FILTER (WHERE op = 'insert')::integer AS deleted, count(*) FILTER (WHERE op <> 'insert')::integer AS restored,
    count(row_key)::integer AS later
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
  return `DELETE FROM ${q(table)} AS m USING ${temp(firsts)} AS f
  WHERE f.table_name = $1 AND f.op = 'insert' AND ${imageKeyMatch(key)}`;
}

/** The mirror row is the image's, its key read from the image as text and cast to each column's type. */
function imageKeyMatch(key: readonly KeyColumn[]): string {
  return key.map((k) => `m.${q(k.name)} = (f.image ->> ${lit(k.name)})::${k.type}`).join(' AND ');
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
  WHERE f.table_name = $1 AND f.op NOT IN ('insert', 'deactivate') AND ${keyMatch(key)}`;
}

/**
 * $1 base CASES table: undoes the deactivations, writing back the bookkeeping deactivating changed
 * (all a deactivation's image holds; the values never changed). A column missing from an older,
 * whole-row image was null.
 */
export function restoreFlagsSql(firsts: string, table: string, key: readonly KeyColumn[]): string {
  const flag = (column: string, type: string): string => `${q(column)} = (f.image ->> ${lit(column)})::${type}`;
  return `UPDATE ${q(table)} AS m SET ${flag(BOOKKEEPING.active, 'boolean')}, ${flag(BOOKKEEPING.changedRun, 'bigint')}, ${flag(BOOKKEEPING.deactivatedRun, 'bigint')}
  FROM ${temp(firsts)} AS f
  WHERE f.table_name = $1 AND f.op = 'deactivate' AND ${imageKeyMatch(key)}`;
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

type CountRow = { table_name: string; deleted: number; restored: number; later?: number };

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
  // The run's changes are rarely in etl_changes' statistics (gathered after an earlier, larger
  // run): estimated at one row, they were joined by a nested loop that recomputed the aggregate
  // per change, and undoing a 50,000-row night ran for minutes. Gathering them takes hash joins.
  const prior =
    (await client.query<{ v: string }>(`SELECT current_setting('enable_nestloop') AS v`)).rows[0]?.v ?? 'on';
  await client.query(`SELECT set_config('enable_nestloop', 'off', true)`);
  await client.query(fillFirstsSql(firsts), [runId]);
  await client.query(indexFirstsSql(firsts));
  await client.query(analyzeFirstsSql(firsts));
  const rows = (await client.query<CountRow>(countFirstsSql(firsts))).rows;
  if (rows.some((r) => Number(r.later) > 0)) await client.query(mergeLaterSql(firsts), [runId]);
  // Reaching the mirror's rows by key is a nested loop at its best.
  await client.query(`SELECT set_config('enable_nestloop', $1, true)`, [prior]);
  const logged = toCounts(rows);
  const counts: UndoCounts[] = [];
  for (const c of logged) {
    const table = mirrorTableName(c.table);
    const shape = await mirrorShape(client, schema, table);
    const deleted =
      c.deleted > 0 ? ((await client.query(deleteInsertedSql(firsts, table, shape.key), [c.table])).rowCount ?? 0) : 0;
    const restored =
      c.restored > 0
        ? ((await client.query(restoreBeforeSql(firsts, table, shape.key, shape.columns), [c.table])).rowCount ?? 0) +
          ((await client.query(restoreFlagsSql(firsts, table, shape.key), [c.table])).rowCount ?? 0)
        : 0;
    counts.push({ table: c.table, deleted, restored });
  }
  // Dropped now, not at commit: a cascade undoes several runs in one transaction.
  await client.query(dropTempSql(firsts));
  return counts;
}
