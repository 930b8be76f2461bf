import { readMigrations } from '../migrations.js';

/**
 * The SQLite ledger's fixed statements: the schema migrations (./migrations), and every statement
 * on etl_runs, etl_run_files, etl_rejects, etl_changes and etl_rollbacks.
 */

/** The ledger's schema, as numbered files in ./migrations. */
export const MIGRATIONS = readMigrations(new URL('./migrations/', import.meta.url));

export const LEDGER = {
  createMigrations:
    'CREATE TABLE IF NOT EXISTS etl_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
  appliedMigrations: 'SELECT version FROM etl_migrations',
  recordMigration: 'INSERT INTO etl_migrations (version, name, applied_at) VALUES (?, ?, ?)',
  insertRun: `INSERT INTO etl_runs (school_id, status, trigger, job_id, dry_run, source_dir, host, pid, started_at)
              VALUES (@school, 'running', @trigger, @jobId, @dryRun, @sourceDir, @host, @pid, @startedAt)`,
  finishRun: `UPDATE etl_runs SET status = @status, finished_at = @finishedAt,
                duration_ms = CAST(ROUND((julianday(@finishedAt) - julianday(started_at)) * 86400000) AS INTEGER),
                files = @files, records = @records, rows_loaded = @rows, rejected = @rejected, error_rate = @errorRate,
                inserted = @inserted, updated = @updated, deactivated = @deactivated, reactivated = @reactivated, unchanged = @unchanged,
                held = @held, deferred = @deferred, fileset_sha256 = @filesetSha256, overrides = @overrides, reason = @reason, error_code = @errorCode
              WHERE id = @id`,
  insertRunFile: `INSERT INTO etl_run_files (run_id, file_name, table_name, table_id, mode, sha256, bytes, records, rows_loaded, rejected,
                    inserted, updated, deactivated, reactivated, unchanged, held, deferred, error, read_as, unchanged_since)
                  VALUES (@runId, @fileName, @table, @tableId, @mode, @sha256, @bytes, @records, @rows, @rejected,
                    @inserted, @updated, @deactivated, @reactivated, @unchanged, @held, @deferred, @error, @readAs, @unchangedSince)`,
  insertReject: `INSERT INTO etl_rejects (run_id, file_name, line, row_key, field, code, message, original_line, original_bytes)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  setArchivePath: 'UPDATE etl_runs SET archive_path = ? WHERE id = ?',
  runningRuns: `SELECT id, host, pid FROM etl_runs WHERE school_id = ? AND status = 'running' AND id <> ?`,
  failRun: `UPDATE etl_runs SET status = 'failed', finished_at = ?, reason = ?, error_code = 'ETL_RUN_INTERRUPTED' WHERE id = ?`,
  latestPublishedFileset: `SELECT id, fileset_sha256, rollback_id FROM etl_runs
                            WHERE school_id = ? AND fileset_sha256 IS NOT NULL AND status IN ('succeeded', 'warning', 'rolled_back') AND dry_run = 0
                            ORDER BY id DESC LIMIT 1`,
  /** The file rows of the school's newest published run that read a file for the table (plan/unchanged.ts). */
  previousLoad: `SELECT f.run_id, f.sha256, f.read_as, f.mode, f.records, f.rows_loaded, f.rejected FROM etl_run_files f
                   WHERE f.table_name = @table AND f.error IS NULL AND f.run_id = (
                     SELECT r.id FROM etl_runs r JOIN etl_run_files g ON g.run_id = r.id AND g.table_name = @table AND g.error IS NULL
                      WHERE r.school_id = @school AND r.status IN ('succeeded', 'warning') AND r.dry_run = 0
                      ORDER BY r.id DESC LIMIT 1)`,
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
  markRolledBack: `UPDATE etl_runs SET finished_as = status, status = 'rolled_back', rollback_id = ? WHERE id = ?`,
  oldestKeptRun: `SELECT id FROM etl_runs WHERE school_id = ? AND status IN ('succeeded', 'warning') AND dry_run = 0 ORDER BY id DESC LIMIT 1 OFFSET ?`,
  prunableRuns: `SELECT id FROM etl_runs WHERE school_id = ? AND id < ? AND changes_pruned = 0 AND status IN ('succeeded', 'warning', 'rolled_back') ORDER BY id`,
  /**
   * ? run, ? the oldest run end (ISO) whose history is kept: the run's published changes in compact
   * form (etl_history_recent, migration 006), moved to the compact history before they are
   * deleted: one row per table and op of up to 1,000 keys (etl_history_packed, migration 008).
   */
  compactRun: `INSERT INTO etl_history_packed (school_id, run_id, table_name, op, first_seq, entries)
                 SELECT school_id, run_id, table_name, op, min(seq), json_group_array(CASE WHEN changes IS NULL
                   THEN json_array(seq, row_key) ELSE json_array(seq, row_key, json(changes)) END ORDER BY seq)
                 FROM (SELECT h.*, (row_number() OVER (PARTITION BY h.table_name, h.op ORDER BY h.seq) - 1) / 1000 AS chunk
                         FROM etl_history_recent AS h WHERE h.run_id = ? AND h.run_time >= ?)
                 GROUP BY school_id, run_id, table_name, op, chunk`,
  /**
   * @school, @since the oldest run end (ISO) whose history is kept (ETL_HISTORY_DAYS): the school's
   * newest run that finished before it, found walking back from the newest (a school's runs finish
   * in id order: they hold its lock). Its history and that of every earlier run expire.
   */
  lastExpiredRun: `SELECT id FROM etl_runs WHERE school_id = @school AND finished_at < @since ORDER BY id DESC LIMIT 1`,
  /** @school, @last (lastExpiredRun): the compact history of the school's runs up to it, one range of the packed key. */
  expireHistory: `DELETE FROM etl_history_packed WHERE school_id = @school AND run_id <= @last`,
  /**
   * @school, @last as for expireHistory: the rejects of the same runs (their keys, codes and the
   * lines kept for an admin, which are personal data) go with their history (the held entries
   * are read from them). The runs keep their counts.
   */
  expireRejects: `DELETE FROM etl_rejects WHERE run_id IN (SELECT id FROM etl_runs WHERE school_id = @school AND id <= @last)`,
  deleteChanges: 'DELETE FROM etl_changes WHERE run_id = ?',
  markPruned: 'UPDATE etl_runs SET changes_pruned = 1 WHERE id = ?',
  /** ? base table: every run, of any school, with changes logged for it. */
  runsChangingTable: 'SELECT DISTINCT run_id AS id FROM etl_changes WHERE table_name = ? ORDER BY run_id',
  listRollbacks: `SELECT * FROM etl_rollbacks WHERE (@school IS NULL OR school_id = @school) ORDER BY id DESC LIMIT @limit`,
} as const;
