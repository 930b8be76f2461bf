import type { ColumnType } from '../../layouts/index.js';
import { BOOKKEEPING, SCHOOL_COLUMN, type MirrorColumn, type MirrorTable } from '../../load/mirror.js';
import type { ViewDef } from '../../load/views.js';

/**
 * Every SQL statement the PostgreSQL adapter runs: the ledger's fixed statements as constants, the
 * mirror tables' and the merge's statements built from their description. Identifiers are always
 * quoted: CASES column names include SQL words and views use mixed-case fields. Values always
 * travel as parameters; only identifiers (quoted here) are spliced into the text.
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

/** The staging table's bookkeeping columns: the row hash the pipeline computed, and its after image. */
export const STAGE_HASH = '_hash';
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

/** COPY straight into the mirror for a school's first load: the school's bookkeeping comes from Node. */
export function copyMirrorSql(mirror: MirrorTable, columns: readonly string[]): string {
  // The order copyLine writes: school, the file's values, the hash, then the rest of the bookkeeping.
  return `COPY ${q(mirror.name)} (${[SCHOOL_COLUMN, ...columns, B.hash, B.active, B.insertedRun, B.changedRun].map(q).join(', ')}) FROM STDIN`;
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
  return `CREATE TEMP TABLE ${q(stage)} ON COMMIT DROP AS SELECT ${columns.map((c) => `m.${q(c)}`).join(', ')}, NULL::text AS ${q(STAGE_HASH)}, NULL::text AS ${q(STAGE_AFTER)} ` +
    `FROM ${q(mirror.name)} m WITH NO DATA`;
}

export function copyStageSql(stage: string, columns: readonly string[]): string {
  return `COPY ${temp(stage)} (${[...columns, STAGE_HASH, STAGE_AFTER].map(q).join(', ')}) FROM STDIN`;
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
    target: [SCHOOL_COLUMN, ...columns, B.active, B.hash, B.insertedRun, B.changedRun].map(q).join(', '),
    source: ['$1::text', ...columns.map((c) => `s.${q(c)}`), 'true', `s.${q(STAGE_HASH)}`, '$2::bigint', '$2::bigint'].join(', '),
  };
}

/**
 * Logs the first load from the mirror itself: the school had no rows before this statement's
 * insert (checked under its run lock), so its rows are exactly the inserted ones. Reading them
 * back is cheaper than carrying a million after-images through a RETURNING CTE.
 */
export function logAllInsertedSql(mirror: MirrorTable): string {
  return `${LOG_CHANGE}
  SELECT $2::bigint, $1::text, $3::text, ${rowKeySql(mirror.key, 'm')}, 'insert', NULL, ${insertImageSql(mirror.key, 'm')} FROM ${q(mirror.name)} AS m WHERE m.${q(SCHOOL_COLUMN)} = $1::text`;
}

/** A temporary table of keys, typed like the mirror's: the active rows a full file never showed. */
export function createKeysSql(keys: string, mirror: MirrorTable): string {
  return `CREATE TEMP TABLE ${q(keys)} ON COMMIT DROP AS SELECT ${mirror.key.map((k) => `m.${q(k)}`).join(', ')} FROM ${q(mirror.name)} m WITH NO DATA`;
}

export function copyKeysSql(keys: string, mirror: MirrorTable): string {
  return `COPY ${temp(keys)} (${mirror.key.map(q).join(', ')}) FROM STDIN`;
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

// ---------------------------------------------------------------------------------------------
// Ledger

export const MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: '001_ledger',
    sql: `
      CREATE TABLE etl_runs (
        id bigserial PRIMARY KEY,
        school_id text NOT NULL,
        status text NOT NULL,
        trigger text NOT NULL,
        job_id text,
        dry_run boolean NOT NULL DEFAULT false,
        source_dir text,
        host text,
        pid integer,
        started_at timestamptz NOT NULL,
        finished_at timestamptz,
        duration_ms integer,
        files integer NOT NULL DEFAULT 0,
        records integer NOT NULL DEFAULT 0,
        rows_loaded integer NOT NULL DEFAULT 0,
        rejected integer NOT NULL DEFAULT 0,
        error_rate double precision NOT NULL DEFAULT 0,
        inserted integer NOT NULL DEFAULT 0,
        updated integer NOT NULL DEFAULT 0,
        deactivated integer NOT NULL DEFAULT 0,
        reactivated integer NOT NULL DEFAULT 0,
        unchanged integer NOT NULL DEFAULT 0,
        fileset_sha256 text,
        overrides jsonb NOT NULL DEFAULT '[]',
        reason text,
        error_code text,
        archive_path text
      );
      CREATE INDEX etl_runs_school ON etl_runs (school_id, id);
      CREATE INDEX etl_runs_fileset ON etl_runs (school_id, fileset_sha256);
      CREATE TABLE etl_run_files (
        run_id bigint NOT NULL REFERENCES etl_runs (id),
        file_name text NOT NULL,
        table_name text NOT NULL,
        table_id text NOT NULL,
        mode text NOT NULL,
        sha256 text NOT NULL,
        bytes bigint NOT NULL,
        records integer NOT NULL,
        rows_loaded integer NOT NULL,
        rejected integer NOT NULL,
        inserted integer NOT NULL,
        updated integer NOT NULL,
        deactivated integer NOT NULL,
        reactivated integer NOT NULL,
        unchanged integer NOT NULL,
        error text,
        PRIMARY KEY (run_id, file_name)
      );
      CREATE TABLE etl_rejects (
        id bigserial PRIMARY KEY,
        run_id bigint NOT NULL REFERENCES etl_runs (id),
        file_name text NOT NULL,
        line integer NOT NULL,
        row_key text,
        field text,
        code text NOT NULL,
        message text NOT NULL,
        raw text
      );
      CREATE INDEX etl_rejects_run ON etl_rejects (run_id);
      CREATE TABLE etl_changes (
        id bigserial PRIMARY KEY,
        run_id bigint NOT NULL REFERENCES etl_runs (id),
        school_id text NOT NULL,
        table_name text NOT NULL,
        row_key text NOT NULL,
        op text NOT NULL,
        before jsonb,
        after jsonb
      );
      CREATE INDEX etl_changes_run ON etl_changes (run_id, id);
    `,
  },
  {
    version: 2,
    name: '002_rollback',
    sql: `
      ALTER TABLE etl_runs ADD COLUMN rollback_id bigint;
      ALTER TABLE etl_runs ADD COLUMN changes_pruned boolean NOT NULL DEFAULT false;
      CREATE TABLE etl_rollbacks (
        id bigserial PRIMARY KEY,
        school_id text NOT NULL,
        target_run_id bigint NOT NULL REFERENCES etl_runs (id),
        run_ids jsonb NOT NULL,
        requested_by text NOT NULL,
        reason text,
        started_at timestamptz NOT NULL,
        finished_at timestamptz,
        rows_deleted integer NOT NULL DEFAULT 0,
        rows_restored integer NOT NULL DEFAULT 0,
        detail jsonb NOT NULL DEFAULT '[]'
      );
      CREATE INDEX etl_rollbacks_school ON etl_rollbacks (school_id, id);
    `,
  },
  {
    version: 3,
    name: '003_changes_unchecked_run',
    // etl_changes is written only by the run it names, after that run's etl_runs row, in the same
    // transaction, and runs are never deleted. The foreign key checked that again for every
    // changed row, in a trigger call each: half the cost of logging a first load.
    sql: `ALTER TABLE etl_changes DROP CONSTRAINT IF EXISTS etl_changes_run_id_fkey;`,
  },
  {
    version: 4,
    name: '004_json_images',
    // Images are written as json (see IMAGE) and read whole; jsonb's parsing and key sorting
    // bought nothing and cost most of logging an update.
    sql: `ALTER TABLE etl_changes ALTER COLUMN before TYPE json USING before::json, ALTER COLUMN after TYPE json USING after::json;`,
  },
];

const INTERRUPTED = 'interrupted: the process ended before the run finished; nothing it did was published';

export const LEDGER = {
  createMigrations: 'CREATE TABLE IF NOT EXISTS etl_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)',
  appliedMigrations: 'SELECT version FROM etl_migrations',
  recordMigration: 'INSERT INTO etl_migrations (version, name, applied_at) VALUES ($1, $2, now())',
  insertRun: `INSERT INTO etl_runs (school_id, status, trigger, job_id, dry_run, source_dir, host, pid, started_at)
              VALUES ($1, 'running', $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
  /** $1 id, $2 status, $3 finished_at, $4.. counts, then fileset, overrides (jsonb text), reason, error code. */
  finishRun: `UPDATE etl_runs SET status = $2, finished_at = $3::timestamptz,
                duration_ms = round(extract(epoch FROM ($3::timestamptz - started_at)) * 1000)::integer,
                files = $4, records = $5, rows_loaded = $6, rejected = $7, error_rate = $8,
                inserted = $9, updated = $10, deactivated = $11, reactivated = $12, unchanged = $13,
                fileset_sha256 = $14, overrides = $15::jsonb, reason = $16, error_code = $17
              WHERE id = $1`,
  /** One statement for every file of the run: parallel arrays, unnested. */
  insertRunFiles: `INSERT INTO etl_run_files (run_id, file_name, table_name, table_id, mode, sha256, bytes, records, rows_loaded, rejected,
                     inserted, updated, deactivated, reactivated, unchanged, error)
                   SELECT $1::bigint, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::integer[],
                     $9::integer[], $10::integer[], $11::integer[], $12::integer[], $13::integer[], $14::integer[], $15::integer[], $16::text[])`,
  /** One statement for every stored reject of the run: parallel arrays, unnested. */
  insertRejects: `INSERT INTO etl_rejects (run_id, file_name, line, row_key, field, code, message, raw)
                  SELECT $1::bigint, * FROM unnest($2::text[], $3::integer[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])`,
  setArchivePath: 'UPDATE etl_runs SET archive_path = $1 WHERE id = $2',
  /** $1 school, $2 current run: the run lock is held, so every other running row is dead. */
  failInterrupted: `UPDATE etl_runs SET status = 'failed', finished_at = now(), reason = '${INTERRUPTED}', error_code = 'ETL_RUN_INTERRUPTED'
                    WHERE school_id = $1 AND status = 'running' AND id <> $2`,
  publishedFileset: `SELECT id, rollback_id FROM etl_runs WHERE school_id = $1 AND fileset_sha256 = $2 AND status IN ('succeeded', 'warning', 'rolled_back') AND NOT dry_run
                       ORDER BY id DESC LIMIT 1`,
  /** The latest published full load of each table, chosen in SQL rather than by overwriting in a Map. */
  lastPublishedRows: `SELECT DISTINCT ON (f.table_name) f.table_name, f.rows_loaded FROM etl_run_files f
                        JOIN etl_runs r ON r.id = f.run_id
                        WHERE r.school_id = $1 AND r.status IN ('succeeded', 'warning') AND NOT r.dry_run AND f.mode = 'full' AND f.error IS NULL
                        ORDER BY f.table_name, f.run_id DESC`,
  listRuns: 'SELECT * FROM etl_runs WHERE ($1::text IS NULL OR school_id = $1) ORDER BY id DESC LIMIT $2',
  getRun: 'SELECT * FROM etl_runs WHERE id = $1',
  /** $1 school, $2 run id. */
  publishedRunsAfter: `SELECT * FROM etl_runs WHERE school_id = $1 AND id > $2 AND status IN ('succeeded', 'warning') AND NOT dry_run ORDER BY id DESC`,
  /**
   * $1 school, $2 how many published runs keep their history. In one statement: the oldest kept
   * run is the `keep`-th newest published one; every earlier run not yet pruned that may hold
   * changes (published, or rolled back) is marked, and its changes go.
   */
  pruneChanges: `WITH oldest_kept AS (
    SELECT id FROM etl_runs WHERE school_id = $1 AND status IN ('succeeded', 'warning') AND NOT dry_run
     ORDER BY id DESC LIMIT 1 OFFSET greatest($2::integer - 1, 0)
  ), pruned AS (
    UPDATE etl_runs AS r SET changes_pruned = true FROM oldest_kept AS k
     WHERE r.school_id = $1 AND r.id < k.id AND NOT r.changes_pruned AND r.status IN ('succeeded', 'warning', 'rolled_back')
    RETURNING r.id
  ), deleted AS (
    DELETE FROM etl_changes AS c USING pruned AS p WHERE c.run_id = p.id
  )
  SELECT id FROM pruned ORDER BY id`,
  insertRollback: `INSERT INTO etl_rollbacks (school_id, target_run_id, run_ids, requested_by, reason, started_at, finished_at, rows_deleted, rows_restored, detail)
                   VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9, $10::jsonb) RETURNING id`,
  /** $1 rollback id, $2 the runs it undid. */
  markRolledBack: `UPDATE etl_runs SET status = 'rolled_back', rollback_id = $1 WHERE id = ANY($2::bigint[])`,
  listRollbacks: 'SELECT * FROM etl_rollbacks WHERE ($1::text IS NULL OR school_id = $1) ORDER BY id DESC LIMIT $2',
} as const;
