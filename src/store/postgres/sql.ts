import type { ColumnType } from '../../layouts/index.js';
import { BOOKKEEPING, SCHOOL_COLUMN, type MirrorColumn, type MirrorTable } from '../../load/mirror.js';
import type { ViewDef } from '../../load/views.js';

/**
 * The PostgreSQL adapter's statements on the schema, the mirror tables and their views, and the
 * merge, built from their description; the ledger's fixed statements are in ledger-sql.ts.
 * Identifiers are always quoted: CASES column names include SQL words and views use mixed-case
 * fields. Values travel as parameters (save one, in digestSql); only identifiers are spliced in.
 */

export const q = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** Real types, so the intranet can sort dates and sum numbers without casts. */
const TYPES: Record<ColumnType, string> = {
  string: 'text',
  flag: 'text',
  smallint: 'smallint',
  int: 'integer',
  // Decimals arrive as their exact digits (money); numeric keeps them exact.
  decimal: 'numeric',
  float: 'double precision',
  date: 'date',
  // CASES times are school-local wall-clock times with no zone.
  datetime: 'timestamp without time zone',
  bytes: 'bytea',
};

export function columnDdl(c: MirrorColumn): string {
  return `${q(c.name)} ${TYPES[c.type]}`;
}

/**
 * Run once on every pooled connection, before its first query. ISO DateStyle makes `date::text` and
 * `timestamp::text` print as the validator writes them (`2024-02-01`, `2024-02-01 08:30:00`),
 * which the row key of a deactivated row depends on.
 */
export function sessionSetupSql(schema: string): string {
  return `SET search_path TO ${q(schema)}; SET datestyle TO ISO, DMY`;
}

/**
 * Advisory lock keys, all derived from 'cases-etl …' so they do not meet another application's.
 * A hashtext collision between two schools only makes them take turns; it never lets one school
 * run twice.
 */
export const LOCKS = {
  /**
   * Transaction lock that serialises migrations across every process on the database. Qualified
   * and run first in its transaction: resolving an unqualified name would look the schema up (and
   * cache its absence) before another process's CREATE SCHEMA commits.
   */
  migrate: 'SELECT pg_catalog.pg_advisory_xact_lock(7365033101)',
  /** Session lock for one school's runs: (schema, school) so separate schemas do not wait on each other. */
  tryRun: `SELECT pg_try_advisory_lock(hashtext('cases-etl run ' || $1::text), hashtext($2::text)) AS locked`,
  unlockRun: `SELECT pg_advisory_unlock(hashtext('cases-etl run ' || $1::text), hashtext($2::text)) AS unlocked`,
  /** Transaction lock around one mirror table's DDL, so two schools' first runs do not race to create it. */
  mirrorDdl: `SELECT pg_advisory_xact_lock(hashtext('cases-etl ddl ' || $1::text), hashtext($2::text))`,
} as const;

/** $1 schema. Asked first because CREATE SCHEMA IF NOT EXISTS still demands CREATE on the database. */
export const SCHEMA_EXISTS = 'SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1) AS present';

export function createSchemaSql(schema: string): string {
  return `CREATE SCHEMA IF NOT EXISTS ${q(schema)}`;
}

// ---------------------------------------------------------------------------------------------
// Mirror tables and views

export function createMirrorSql(m: MirrorTable): string {
  return [
    `CREATE TABLE IF NOT EXISTS ${q(m.name)} (`,
    `  ${q(SCHOOL_COLUMN)} text NOT NULL,`,
    ...m.columns.map((c) => `  ${columnDdl(c)},`),
    `  ${q(BOOKKEEPING.active)} boolean NOT NULL DEFAULT true,`,
    `  ${q(BOOKKEEPING.hash)} text NOT NULL,`,
    `  ${q(BOOKKEEPING.insertedRun)} bigint NOT NULL,`,
    `  ${q(BOOKKEEPING.changedRun)} bigint NOT NULL,`,
    `  ${q(BOOKKEEPING.deactivatedRun)} bigint,`,
    `  ${q(BOOKKEEPING.lineHash)} text,`,
    `  PRIMARY KEY (${[SCHOOL_COLUMN, ...m.key].map(q).join(', ')})`,
    ')',
  ].join('\n');
}

export function addColumnSql(table: string, c: MirrorColumn): string {
  return `ALTER TABLE ${q(table)} ADD COLUMN IF NOT EXISTS ${columnDdl(c)}`;
}

/**
 * $1 schema, $2 table: its columns, none if it does not exist. From the catalog: the
 * information_schema view took some 5 ms a table, a tenth of a small school's whole night.
 */
export const MIRROR_COLUMNS = `SELECT a.attname AS column_name FROM pg_catalog.pg_attribute a
  JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped`;

/** $1 schema, $2 view names: each existing view with the stamp cases-etl left in its comment. */
export const VIEW_STAMPS = `SELECT c.relname AS name, obj_description(c.oid, 'pg_class') AS stamp FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = ANY($2::text[]) AND c.relkind = 'v'`;

export function dropViewSql(view: ViewDef): string {
  return `DROP VIEW IF EXISTS ${q(view.name)}`;
}

export function createViewSql(view: ViewDef): string {
  return `CREATE VIEW ${q(view.name)} AS SELECT ${view.fields.map((f) => `${q(f.column)} AS ${q(f.field)}`).join(', ')} FROM ${q(view.mirror)}`;
}

export function commentViewSql(view: ViewDef, stamp: string): string {
  return `COMMENT ON VIEW ${q(view.name)} IS '${stamp.replace(/'/g, "''")}'`;
}

// ---------------------------------------------------------------------------------------------
// Merge: COPY into a staging table, one pass that plans the changes into a diff table, then one
// statement per kind of change. Parameters throughout: $1 school (text), $2 run id (bigint),
// $3 base CASES table for etl_changes (text).

/** The staging table's bookkeeping columns: the row and line hashes the pipeline computed, and its after image. */
export const STAGE_HASH = '_hash';
export const STAGE_LINE = '_line_hash';
/**
 * A staged row's after image as JSON text, built in Node from the file's values, missing only
 * `_inserted_run` and the closing brace: the update appends the mirror row's own. Asking
 * PostgreSQL for row_to_json of a 211-column row cost as much as the rest of the update.
 */
export const STAGE_AFTER = '_after';

const B = BOOKKEEPING;

/**
 * An insert's after image: the row's address (school and key), not all of it. The inserted row is
 * the mirror row itself, and the next change to it records it in full as that change's before
 * image; writing 211 columns of JSON per new row made a first load ten times slower than COPY.
 */
export function insertImageSql(key: readonly string[], alias: string): string {
  return `json_build_object(${[SCHOOL_COLUMN, ...key].map((k) => `'${k.replace(/'/g, "''")}', ${alias}.${q(k)}`).join(', ')})`;
}

/**
 * COPY straight into the mirror for a school's first load: the school's bookkeeping comes from
 * Node. `freeze` when the table was created in the current subtransaction (nobody else can see
 * it before the commit): the rows are written frozen and their pages all-visible, so the next
 * night's reads do not first rewrite every page to set hint bits.
 */
export function copyMirrorSql(mirror: MirrorTable, columns: readonly string[], freeze = false): string {
  // The order copyLine writes: school, the file's values, the hashes, then the rest of the bookkeeping.
  return `COPY ${q(mirror.name)} (${[SCHOOL_COLUMN, ...columns, B.hash, B.lineHash, B.active, B.insertedRun, B.changedRun].map(q).join(', ')}) FROM STDIN${freeze ? ' WITH (FREEZE)' : ''}`;
}

/** The key as the validator builds it (typed values as text, joined by U+001F), in SQL. */
export function rowKeySql(key: readonly string[], alias: string): string {
  return key.map((k) => `${alias}.${q(k)}::text`).join(' || chr(31) || ');
}

function keyJoin(key: readonly string[], left: string, right: string): string {
  return key.map((k) => `${left}.${q(k)} = ${right}.${q(k)}`).join(' AND ');
}

const temp = (name: string): string => `pg_temp.${q(name)}`;

/**
 * The staging table: the file's columns with the mirror's own types (copied from the mirror, so a
 * column created under an older layout still compares and assigns without casts), plus the hash.
 * No keys or indexes: COPY writes it once and the diff reads it once.
 */
export function createStageSql(stage: string, mirror: MirrorTable, columns: readonly string[]): string {
  return `CREATE TEMP TABLE ${q(stage)} ON COMMIT DROP AS SELECT ${columns.map((c) => `m.${q(c)}`).join(', ')}, NULL::text AS ${q(STAGE_HASH)}, NULL::text AS ${q(STAGE_LINE)}, NULL::text AS ${q(STAGE_AFTER)} ` +
    `FROM ${q(mirror.name)} m WITH NO DATA`;
}

export function copyStageSql(stage: string, columns: readonly string[]): string {
  return `COPY ${temp(stage)} (${[...columns, STAGE_HASH, STAGE_LINE, STAGE_AFTER].map(q).join(', ')}) FROM STDIN`;
}

/** Statistics on the join columns only: enough for the planner to size the join, at a fraction of a full ANALYZE. */
export function analyzeStageSql(stage: string, key: readonly string[]): string {
  return `ANALYZE ${temp(stage)} (${[...key, STAGE_HASH].map(q).join(', ')})`;
}

export function dropTempSql(name: string): string {
  return `DROP TABLE IF EXISTS ${temp(name)}`;
}

/**
 * Lets the diff's hash join of a large file stay in memory (the default 4MB spills a million rows
 * to disk in batches), for this transaction only, and never lowers a larger setting.
 */
export const RAISE_WORK_MEM = `SELECT set_config('work_mem', '128MB', true) WHERE pg_size_bytes(current_setting('work_mem')) < pg_size_bytes('128MB')`;

/** $1 school: whether the school has any row in the mirror yet (its first load needs no diff). */
export function schoolHasRowsSql(mirror: MirrorTable): string {
  return `SELECT EXISTS (SELECT 1 FROM ${q(mirror.name)} WHERE ${q(SCHOOL_COLUMN)} = $1::text) AS present`;
}

const LOG_CHANGE = 'INSERT INTO etl_changes (run_id, school_id, table_name, row_key, op, before, after)';

/**
 * A whole mirror row as a change image, null columns left out. json, not jsonb: row_to_json is
 * three times as fast as to_jsonb on a wide row (no key sorting), and images are only ever read
 * whole, by rollback.
 */
const IMAGE = (alias: string): string => `json_strip_nulls(row_to_json(${alias}))`;

function insertColumns(columns: readonly string[]): { target: string; source: string } {
  return {
    target: [SCHOOL_COLUMN, ...columns, B.active, B.hash, B.lineHash, B.insertedRun, B.changedRun].map(q).join(', '),
    source: ['$1::text', ...columns.map((c) => `s.${q(c)}`), 'true', `s.${q(STAGE_HASH)}`, `s.${q(STAGE_LINE)}`, '$2::bigint', '$2::bigint'].join(', '),
  };
}

/**
 * Logs the first load from the mirror itself: the school had no rows before this statement's
 * insert (checked under its run lock), so its rows are exactly the inserted ones. Reading them
 * back is cheaper than carrying a million after-images through a RETURNING CTE.
 */
export function logAllInsertedSql(mirror: MirrorTable, wholeTable = false): string {
  // A table this run created holds only this school's rows: read whole, it is one sequential scan
  // (with no statistics yet, the planner would go through the primary key for the school's rows).
  const where = wholeTable ? '' : ` WHERE m.${q(SCHOOL_COLUMN)} = $1::text`;
  return `${LOG_CHANGE}
  SELECT $2::bigint, $1::text, $3::text, ${rowKeySql(mirror.key, 'm')}, 'insert', NULL, ${insertImageSql(mirror.key, 'm')} FROM ${q(mirror.name)} AS m${where}`;
}

/**
 * The digest of a re-run (see load/digest.ts): each of the school's rows as its key (built as the
 * validator builds it), row hash, active flag and line hash. COPY takes no parameters, so the
 * school is the one value spliced in, as a quoted literal.
 */
export function digestSql(mirror: MirrorTable, school: string): string {
  return `COPY (SELECT ${rowKeySql(mirror.key, 'm')}, m.${q(B.hash)}, m.${q(B.active)}, m.${q(B.lineHash)} FROM ${q(mirror.name)} AS m
    WHERE m.${q(SCHOOL_COLUMN)} = '${school.replace(/'/g, "''")}') TO STDOUT`;
}

/** A temporary table of keys, typed like the mirror's: the active rows a full file never showed. */
export function createKeysSql(keys: string, mirror: MirrorTable): string {
  return `CREATE TEMP TABLE ${q(keys)} ON COMMIT DROP AS SELECT ${mirror.key.map((k) => `m.${q(k)}`).join(', ')} FROM ${q(mirror.name)} m WITH NO DATA`;
}

export function copyKeysSql(keys: string, mirror: MirrorTable): string {
  return `COPY ${temp(keys)} (${mirror.key.map(q).join(', ')}) FROM STDIN`;
}

/**
 * A temporary table of keys and line hashes, typed like the mirror's: unchanged rows read from
 * other text than their stored line hash says, whose line hash is brought up to date.
 */
export function createLinesSql(lines: string, mirror: MirrorTable): string {
  return `CREATE TEMP TABLE ${q(lines)} ON COMMIT DROP AS SELECT ${[...mirror.key, B.lineHash].map((k) => `m.${q(k)}`).join(', ')} FROM ${q(mirror.name)} m WITH NO DATA`;
}

export function copyLinesSql(lines: string, mirror: MirrorTable): string {
  return `COPY ${temp(lines)} (${[...mirror.key, B.lineHash].map(q).join(', ')}) FROM STDIN`;
}

/**
 * $1 school. Sets the line hashes in `lines` on their rows. Not a change of the row (its values
 * are as they were), so neither logged nor counted: a line hash only lets a later run skip
 * reading the line, and any line hash a row holds reads as its values.
 */
export function refreshLinesSql(lines: string, mirror: MirrorTable): string {
  return `UPDATE ${q(mirror.name)} AS m SET ${q(B.lineHash)} = l.${q(B.lineHash)} FROM ${temp(lines)} AS l
  WHERE m.${q(SCHOOL_COLUMN)} = $1::text AND ${keyJoin(mirror.key, 'm', 'l')}`;
}

/** Statistics for a temporary table, before it is joined to the mirror. */
export function analyzeSql(table: string): string {
  return `ANALYZE ${temp(table)}`;
}

/**
 * Planned changes of a re-run: the staged rows (only those the probe found new, changed or
 * inactive) joined to their mirror rows. Deactivations come from the seen keys instead.
 */
export function planStagedSql(diff: string, stage: string, mirror: MirrorTable): string {
  const cols = ['ctid', ...mirror.key, B.active].map((c) => (c === 'ctid' ? c : q(c))).join(', ');
  return `INSERT INTO ${temp(diff)} (sid, rid, op)
  SELECT s.ctid, m.ctid, CASE WHEN m.ctid IS NULL THEN 'insert' WHEN m.${q(B.active)} THEN 'update' ELSE 'reactivate' END
  FROM ${temp(stage)} AS s
  LEFT JOIN (SELECT ${cols} FROM ${q(mirror.name)} WHERE ${q(SCHOOL_COLUMN)} = $1::text) AS m ON ${keyJoin(mirror.key, 's', 'm')}`;
}

/** A full file's deactivations: the school's active rows whose key it never showed (in `gone`). */
export function planGoneSql(diff: string, gone: string, mirror: MirrorTable): string {
  return `INSERT INTO ${temp(diff)} (sid, rid, op)
  SELECT NULL, m.ctid, 'deactivate' FROM ${temp(gone)} AS g JOIN ${q(mirror.name)} AS m ON ${keyJoin(mirror.key, 'g', 'm')}
  WHERE m.${q(SCHOOL_COLUMN)} = $1::text AND m.${q(B.active)}`;
}

export function createDiffSql(diff: string): string {
  return `CREATE TEMP TABLE ${q(diff)} (sid tid, rid tid, op text NOT NULL) ON COMMIT DROP`;
}

/**
 * Updates and reactivations: the planned rows take the file's values (mirror columns the file
 * lacks become NULL: a row's content is the file's row), keeping `_inserted_run`. `old` is the
 * same row read through the statement's snapshot, which is how an UPDATE returns the image from
 * before it. Rows are reached by address (TID scans), not by key.
 */
export function applyChangedSql(diff: string, stage: string, mirror: MirrorTable, columns: readonly string[]): string {
  const keys = new Set(mirror.key);
  const inFile = new Set(columns);
  const set = [
    ...columns.filter((c) => !keys.has(c)).map((c) => `${q(c)} = s.${q(c)}`),
    ...mirror.columns.filter((c) => !inFile.has(c.name)).map((c) => `${q(c.name)} = NULL`),
    `${q(B.active)} = true`,
    `${q(B.hash)} = s.${q(STAGE_HASH)}`,
    `${q(B.lineHash)} = s.${q(STAGE_LINE)}`,
    `${q(B.changedRun)} = $2::bigint`,
    `${q(B.deactivatedRun)} = NULL`,
  ];
  return `WITH changed AS (
  UPDATE ${q(mirror.name)} AS m SET ${set.join(', ')}
  FROM ${temp(diff)} AS d, ${temp(stage)} AS s, ${q(mirror.name)} AS old
  WHERE d.op IN ('update', 'reactivate') AND m.ctid = d.rid AND s.ctid = d.sid AND old.ctid = d.rid
  RETURNING d.op, ${rowKeySql(mirror.key, 'm')} AS row_key, ${IMAGE('old')} AS before, (s.${q(STAGE_AFTER)} || old.${q(B.insertedRun)}::text || '}')::json AS after
), logged AS (
  ${LOG_CHANGE}
  SELECT $2::bigint, $1::text, $3::text, row_key, op, before, after FROM changed
)
SELECT count(*) FILTER (WHERE op = 'update')::integer AS updated, count(*) FILTER (WHERE op = 'reactivate')::integer AS reactivated FROM changed`;
}

/** Inserts the planned new rows and logs them. */
export function applyInsertsSql(diff: string, stage: string, mirror: MirrorTable, columns: readonly string[]): string {
  const { target, source } = insertColumns(columns);
  return `WITH added AS (
  INSERT INTO ${q(mirror.name)} AS m (${target})
  SELECT ${source} FROM ${temp(diff)} AS d JOIN ${temp(stage)} AS s ON s.ctid = d.sid WHERE d.op = 'insert'
  RETURNING ${rowKeySql(mirror.key, 'm')} AS row_key, ${insertImageSql(mirror.key, 'm')} AS after
), logged AS (
  ${LOG_CHANGE}
  SELECT $2::bigint, $1::text, $3::text, row_key, 'insert', NULL, after FROM added
)
SELECT count(*)::integer AS inserted FROM added`;
}

/** Marks the planned missing rows inactive (full files only) and logs them. */
export function applyDeactivationsSql(diff: string, mirror: MirrorTable): string {
  return `WITH gone AS (
  UPDATE ${q(mirror.name)} AS m SET ${q(B.active)} = false, ${q(B.changedRun)} = $2::bigint, ${q(B.deactivatedRun)} = $2::bigint
  FROM ${temp(diff)} AS d, ${q(mirror.name)} AS old
  WHERE d.op = 'deactivate' AND m.ctid = d.rid AND old.ctid = d.rid
  RETURNING ${rowKeySql(mirror.key, 'm')} AS row_key, ${IMAGE('old')} AS before, ${IMAGE('m')} AS after
), logged AS (
  ${LOG_CHANGE}
  SELECT $2::bigint, $1::text, $3::text, row_key, 'deactivate', before, after FROM gone
)
SELECT count(*)::integer AS deactivated FROM gone`;
}
