import type { ColumnType } from '../../layouts/index.js';
import { BOOKKEEPING, SCHOOL_COLUMN, type MirrorColumn, type MirrorTable } from '../../load/mirror.js';
import type { ViewDef } from '../../load/views.js';
import { LEGACY_KEYLESS_CODES } from '../common.js';

/**
 * Every SQL statement the SQLite adapter runs: the ledger's fixed statements as constants, the
 * mirror tables' statements built from their description. Identifiers are always quoted: CASES
 * column names include SQL words (CLASS, ORDER-like names) and views use mixed-case fields.
 */

export const q = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** SQLite has type affinities, not types; these keep values as the pipeline wrote them. */
const TYPES: Record<ColumnType, string> = {
  string: 'TEXT',
  flag: 'TEXT',
  smallint: 'INTEGER',
  int: 'INTEGER',
  decimal: 'NUMERIC',
  float: 'REAL',
  // ISO text sorts and compares correctly; a DATETIME declaration would give NUMERIC affinity.
  date: 'TEXT',
  datetime: 'TEXT',
  bytes: 'BLOB',
};

export function columnDdl(c: MirrorColumn): string {
  return `${q(c.name)} ${TYPES[c.type]}`;
}

export function createMirrorSql(m: MirrorTable): string {
  return [
    `CREATE TABLE IF NOT EXISTS ${q(m.name)} (`,
    `  ${q(SCHOOL_COLUMN)} TEXT NOT NULL,`,
    ...m.columns.map((c) => `  ${columnDdl(c)},`),
    `  ${q(BOOKKEEPING.active)} INTEGER NOT NULL DEFAULT 1,`,
    `  ${q(BOOKKEEPING.hash)} TEXT NOT NULL,`,
    `  ${q(BOOKKEEPING.insertedRun)} INTEGER NOT NULL,`,
    `  ${q(BOOKKEEPING.changedRun)} INTEGER NOT NULL,`,
    `  ${q(BOOKKEEPING.deactivatedRun)} INTEGER,`,
    `  ${q(BOOKKEEPING.lineHash)} TEXT,`,
    `  PRIMARY KEY (${[SCHOOL_COLUMN, ...m.key].map(q).join(', ')})`,
    ')',
  ].join('\n');
}

export function addColumnSql(table: string, c: MirrorColumn): string {
  return `ALTER TABLE ${q(table)} ADD COLUMN ${columnDdl(c)}`;
}

export function dropViewSql(view: ViewDef): string {
  return `DROP VIEW IF EXISTS ${q(view.name)}`;
}

export function createViewSql(view: ViewDef): string {
  return `CREATE VIEW ${q(view.name)} AS SELECT ${view.fields.map((f) => `${q(f.column)} AS ${q(f.field)}`).join(', ')} FROM ${q(view.mirror)}`;
}

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

export const MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: '001_ledger',
    sql: `
      CREATE TABLE etl_runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        school_id TEXT NOT NULL,
        status TEXT NOT NULL,
        trigger TEXT NOT NULL,
        job_id TEXT,
        dry_run INTEGER NOT NULL DEFAULT 0,
        source_dir TEXT,
        host TEXT,
        pid INTEGER,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        duration_ms INTEGER,
        files INTEGER NOT NULL DEFAULT 0,
        records INTEGER NOT NULL DEFAULT 0,
        rows_loaded INTEGER NOT NULL DEFAULT 0,
        rejected INTEGER NOT NULL DEFAULT 0,
        error_rate REAL NOT NULL DEFAULT 0,
        inserted INTEGER NOT NULL DEFAULT 0,
        updated INTEGER NOT NULL DEFAULT 0,
        deactivated INTEGER NOT NULL DEFAULT 0,
        reactivated INTEGER NOT NULL DEFAULT 0,
        unchanged INTEGER NOT NULL DEFAULT 0,
        fileset_sha256 TEXT,
        overrides TEXT NOT NULL DEFAULT '[]',
        reason TEXT,
        error_code TEXT,
        archive_path TEXT
      );
      CREATE INDEX etl_runs_school ON etl_runs (school_id, id);
      CREATE INDEX etl_runs_fileset ON etl_runs (school_id, fileset_sha256);
      CREATE TABLE etl_run_files (
        run_id INTEGER NOT NULL REFERENCES etl_runs (id),
        file_name TEXT NOT NULL,
        table_name TEXT NOT NULL,
        table_id TEXT NOT NULL,
        mode TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        records INTEGER NOT NULL,
        rows_loaded INTEGER NOT NULL,
        rejected INTEGER NOT NULL,
        inserted INTEGER NOT NULL,
        updated INTEGER NOT NULL,
        deactivated INTEGER NOT NULL,
        reactivated INTEGER NOT NULL,
        unchanged INTEGER NOT NULL,
        error TEXT,
        PRIMARY KEY (run_id, file_name)
      );
      CREATE TABLE etl_rejects (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id INTEGER NOT NULL REFERENCES etl_runs (id),
        file_name TEXT NOT NULL,
        line INTEGER NOT NULL,
        row_key TEXT,
        field TEXT,
        code TEXT NOT NULL,
        message TEXT NOT NULL,
        raw TEXT
      );
      CREATE INDEX etl_rejects_run ON etl_rejects (run_id);
      CREATE TABLE etl_changes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id INTEGER NOT NULL REFERENCES etl_runs (id),
        school_id TEXT NOT NULL,
        table_name TEXT NOT NULL,
        row_key TEXT NOT NULL,
        op TEXT NOT NULL,
        before TEXT,
        after TEXT
      );
      CREATE INDEX etl_changes_run ON etl_changes (run_id, id);
    `,
  },
  {
    version: 2,
    name: '002_rollback',
    sql: `
      ALTER TABLE etl_runs ADD COLUMN rollback_id INTEGER;
      ALTER TABLE etl_runs ADD COLUMN changes_pruned INTEGER NOT NULL DEFAULT 0;
      CREATE TABLE etl_rollbacks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        school_id TEXT NOT NULL,
        target_run_id INTEGER NOT NULL REFERENCES etl_runs (id),
        run_ids TEXT NOT NULL,
        requested_by TEXT NOT NULL,
        reason TEXT,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        rows_deleted INTEGER NOT NULL DEFAULT 0,
        rows_restored INTEGER NOT NULL DEFAULT 0,
        detail TEXT NOT NULL DEFAULT '[]'
      );
      CREATE INDEX etl_rollbacks_school ON etl_rollbacks (school_id, id);
    `,
  },
  {
    version: 3,
    name: '003_held_deferred',
    // Rejected rows held at their last version, and deactivations put off by keyless rejects.
    sql: `
      ALTER TABLE etl_runs ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE etl_runs ADD COLUMN deferred INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE etl_run_files ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE etl_run_files ADD COLUMN deferred INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 4,
    name: '004_original_line',
    // The original line is personal data, shown only to an admin who asks: named for what it is,
    // capped, with its full length beside it. Lines stored before were kept whole and records
    // broken by a quote, a stray delimiter or a bad fixed-width line got (part of) the line as
    // their key: both are cut back here (to the default cap, in characters), and those keys go.
    sql: `
      ALTER TABLE etl_rejects RENAME COLUMN raw TO original_line;
      ALTER TABLE etl_rejects ADD COLUMN original_bytes INTEGER;
      UPDATE etl_rejects SET original_bytes = length(CAST(original_line AS BLOB)), original_line = substr(original_line, 1, 4096)
       WHERE original_line IS NOT NULL;
      UPDATE etl_rejects SET row_key = NULL WHERE code IN (${LEGACY_KEYLESS_CODES});
    `,
  },
];

export const LEDGER = {
  createMigrations:
    'CREATE TABLE IF NOT EXISTS etl_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
  appliedMigrations: 'SELECT version FROM etl_migrations',
  recordMigration: 'INSERT INTO etl_migrations (version, name, applied_at) VALUES (?, ?, ?)',
  insertRun: `INSERT INTO etl_runs (school_id, status, trigger, job_id, dry_run, source_dir, host, pid, started_at)
              VALUES (@school, 'running', @trigger, @jobId, @dryRun, @sourceDir, @host, @pid, @startedAt)`,
  finishRun: `UPDATE etl_runs SET status = @status, finished_at = @finishedAt,
                duration_ms = CAST((julianday(@finishedAt) - julianday(started_at)) * 86400000 AS INTEGER),
                files = @files, records = @records, rows_loaded = @rows, rejected = @rejected, error_rate = @errorRate,
                inserted = @inserted, updated = @updated, deactivated = @deactivated, reactivated = @reactivated, unchanged = @unchanged,
                held = @held, deferred = @deferred, fileset_sha256 = @filesetSha256, overrides = @overrides, reason = @reason, error_code = @errorCode
              WHERE id = @id`,
  insertRunFile: `INSERT INTO etl_run_files (run_id, file_name, table_name, table_id, mode, sha256, bytes, records, rows_loaded, rejected,
                    inserted, updated, deactivated, reactivated, unchanged, held, deferred, error)
                  VALUES (@runId, @fileName, @table, @tableId, @mode, @sha256, @bytes, @records, @rows, @rejected,
                    @inserted, @updated, @deactivated, @reactivated, @unchanged, @held, @deferred, @error)`,
  insertReject: `INSERT INTO etl_rejects (run_id, file_name, line, row_key, field, code, message, original_line, original_bytes)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  setArchivePath: 'UPDATE etl_runs SET archive_path = ? WHERE id = ?',
  runningRuns: `SELECT id, host, pid FROM etl_runs WHERE school_id = ? AND status = 'running' AND id <> ?`,
  failRun: `UPDATE etl_runs SET status = 'failed', finished_at = ?, reason = ?, error_code = 'ETL_RUN_INTERRUPTED' WHERE id = ?`,
  latestPublishedFileset: `SELECT id, fileset_sha256, rollback_id FROM etl_runs
                            WHERE school_id = ? AND fileset_sha256 IS NOT NULL AND status IN ('succeeded', 'warning', 'rolled_back') AND dry_run = 0
                            ORDER BY id DESC LIMIT 1`,
  /** One table's latest published full load: the school's runs newest first, up to the first hit. */
  lastPublishedRows: `SELECT f.rows_loaded AS rows_loaded FROM etl_runs r JOIN etl_run_files f ON f.run_id = r.id AND f.table_name = ?
                        WHERE r.school_id = ? AND r.status IN ('succeeded', 'warning') AND r.dry_run = 0 AND f.mode = 'full' AND f.error IS NULL
                        ORDER BY r.id DESC LIMIT 1`,
  listRuns: `SELECT * FROM etl_runs WHERE (@school IS NULL OR school_id = @school) ORDER BY id DESC LIMIT @limit`,
  getRun: 'SELECT * FROM etl_runs WHERE id = ?',
  insertChange:
    'INSERT INTO etl_changes (run_id, school_id, table_name, row_key, op, before, after) VALUES (?, ?, ?, ?, ?, ?, ?)',
  publishedRunsAfter: `SELECT * FROM etl_runs WHERE school_id = ? AND id > ? AND status IN ('succeeded', 'warning') AND dry_run = 0 ORDER BY id DESC`,
  /** Per table: a key's first change in the run decides what undoing does to it. */
  planUndo: `SELECT c.table_name AS table_name,
                    sum(CASE WHEN c.op = 'insert' THEN 1 ELSE 0 END) AS deleted,
                    sum(CASE WHEN c.op = 'insert' THEN 0 ELSE 1 END) AS restored
               FROM etl_changes c
               JOIN (SELECT min(id) AS id FROM etl_changes WHERE run_id = ? GROUP BY table_name, row_key) f ON f.id = c.id
              GROUP BY c.table_name ORDER BY c.table_name`,
  /** A page of the run's changes, newest first, below `id`. */
  changesPage: `SELECT id, table_name, op, before, after FROM etl_changes WHERE run_id = ? AND id < ? ORDER BY id DESC LIMIT ?`,
  insertRollback: `INSERT INTO etl_rollbacks (school_id, target_run_id, run_ids, requested_by, reason, started_at, finished_at, rows_deleted, rows_restored, detail)
                   VALUES (@school, @targetRunId, @runIds, @requestedBy, @reason, @startedAt, @finishedAt, @rowsDeleted, @rowsRestored, @detail)`,
  markRolledBack: `UPDATE etl_runs SET status = 'rolled_back', rollback_id = ? WHERE id = ?`,
  oldestKeptRun: `SELECT id FROM etl_runs WHERE school_id = ? AND status IN ('succeeded', 'warning') AND dry_run = 0 ORDER BY id DESC LIMIT 1 OFFSET ?`,
  prunableRuns: `SELECT id FROM etl_runs WHERE school_id = ? AND id < ? AND changes_pruned = 0 AND status IN ('succeeded', 'warning', 'rolled_back') ORDER BY id`,
  deleteChanges: 'DELETE FROM etl_changes WHERE run_id = ?',
  markPruned: 'UPDATE etl_runs SET changes_pruned = 1 WHERE id = ?',
  /** ? base table: every run, of any school, with changes logged for it. */
  runsChangingTable: 'SELECT DISTINCT run_id AS id FROM etl_changes WHERE table_name = ? ORDER BY run_id',
  listRollbacks: `SELECT * FROM etl_rollbacks WHERE (@school IS NULL OR school_id = @school) ORDER BY id DESC LIMIT @limit`,
} as const;
