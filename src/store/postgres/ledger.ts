/**
 * The PostgreSQL ledger's fixed statements: the schema migrations (./migrations), and every statement
 * on etl_runs, etl_run_files, etl_rejects, etl_changes and etl_rollbacks. The mirror tables' and
 * the merge's statements, built from their description, are in sql.ts.
 */

import { readMigrations } from '../migrations.js';

/** The ledger's schema, as numbered files in ./migrations. */
export const MIGRATIONS = readMigrations(new URL('./migrations/', import.meta.url));

/**
 * Moving changes to the compact history (etl_history_packed, migration 012): the entries of
 * etl_history_recent that `where` picks (on `h`), one row per run, table and op of up to 1,000
 * keys in the order of the changes, with their changes when any has some.
 */
function compact(where: string): string {
  return `INSERT INTO etl_history_packed (run_id, school_id, table_name, op, seqs, row_keys, changes)
    SELECT run_id, school_id, table_name, op, array_agg(seq ORDER BY seq), array_agg(row_key ORDER BY seq),
      CASE WHEN count(changes) = 0 THEN NULL ELSE array_agg(changes ORDER BY seq) END
    FROM (SELECT h.*, (row_number() OVER (PARTITION BY h.run_id, h.table_name, h.op ORDER BY h.seq) - 1) / 1000 AS chunk
            FROM etl_history_recent AS h WHERE ${where}) AS e
    GROUP BY run_id, school_id, table_name, op, chunk`;
}

/**
 * $1 school, $3 the oldest run end kept: the school's newest run that finished before it, found
 * walking back from the newest (a school's runs finish in id order: they hold its lock).
 */
const LAST_EXPIRED_RUN = `SELECT id FROM etl_runs WHERE school_id = $1 AND finished_at < $3::timestamptz ORDER BY id DESC LIMIT 1`;

const INTERRUPTED = 'interrupted: the process ended before the run finished; nothing it did was published';

export const LEDGER = {
  createMigrations:
    'CREATE TABLE IF NOT EXISTS etl_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)',
  appliedMigrations: 'SELECT version FROM etl_migrations',
  recordMigration: 'INSERT INTO etl_migrations (version, name, applied_at) VALUES ($1, $2, now())',
  insertRun: `INSERT INTO etl_runs (school_id, status, trigger, job_id, dry_run, source_dir, host, pid, started_at)
              VALUES ($1, 'running', $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
  /** $1 id, $2 status, $3 finished_at, $4.. counts, then fileset, overrides (jsonb text), reason, error code. */
  finishRun: `UPDATE etl_runs SET status = $2, finished_at = $3::timestamptz,
                duration_ms = round(extract(epoch FROM ($3::timestamptz - started_at)) * 1000)::integer,
                files = $4, records = $5, rows_loaded = $6, rejected = $7, error_rate = $8,
                inserted = $9, updated = $10, deactivated = $11, reactivated = $12, unchanged = $13,
                fileset_sha256 = $14, overrides = $15::jsonb, reason = $16, error_code = $17, held = $18, deferred = $19
              WHERE id = $1`,
  /** One statement for every file of the run: parallel arrays, unnested. */
  insertRunFiles: `INSERT INTO etl_run_files (run_id, file_name, table_name, table_id, mode, sha256, bytes, records, rows_loaded, rejected,
                     inserted, updated, deactivated, reactivated, unchanged, error, held, deferred, read_as, unchanged_since)
                   SELECT $1::bigint, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::integer[],
                     $9::integer[], $10::integer[], $11::integer[], $12::integer[], $13::integer[], $14::integer[], $15::integer[], $16::text[],
                     $17::integer[], $18::integer[], $19::text[], $20::bigint[])`,
  /** One statement for every stored reject of the run: parallel arrays, unnested. */
  insertRejects: `INSERT INTO etl_rejects (run_id, file_name, line, row_key, field, code, message, original_line, original_bytes)
                  SELECT $1::bigint, * FROM unnest($2::text[], $3::integer[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                    $9::bigint[])`,
  setArchivePath: 'UPDATE etl_runs SET archive_path = $1 WHERE id = $2',
  /** $1 school, $2 current run: the run lock is held, so every other running row is dead. */
  failInterrupted: `UPDATE etl_runs SET status = 'failed', finished_at = now(), reason = '${INTERRUPTED}', error_code = 'ETL_RUN_INTERRUPTED'
                    WHERE school_id = $1 AND status = 'running' AND id <> $2`,
  latestPublishedFileset: `SELECT id, fileset_sha256, rollback_id FROM etl_runs
                            WHERE school_id = $1 AND fileset_sha256 IS NOT NULL AND status IN ('succeeded', 'warning', 'rolled_back') AND NOT dry_run
                            ORDER BY id DESC LIMIT 1`,
  /**
   * $1 school, $2 tables: each table's latest published full load. Per table, the school's runs
   * are walked newest first and the walk stops at the first hit (usually last night's run), so
   * the cost stays flat as a school's history grows (joining every published run's files and
   * sorting them took 43 ms a run with 200 schools of 1,100 nights; this takes 2.5 ms).
   */
  /**
   * The file rows of the school's newest published run that read a file for the table
   * (plan/unchanged.ts), walking the school's runs newest first as above: max() over every
   * published run's files grew from 0.6 to 2.7 ms a file over a year of nights.
   */
  previousLoad: `SELECT f.run_id, f.sha256, f.read_as, f.mode, f.records, f.rows_loaded, f.rejected FROM etl_run_files f
                   WHERE f.table_name = $2 AND f.error IS NULL AND f.run_id = (
                     SELECT r.id FROM etl_runs r JOIN etl_run_files g ON g.run_id = r.id AND g.table_name = $2 AND g.error IS NULL
                      WHERE r.school_id = $1 AND r.status IN ('succeeded', 'warning') AND NOT r.dry_run
                      ORDER BY r.id DESC LIMIT 1)`,
  lastPublishedRows: `SELECT t.name AS table_name, l.rows_loaded FROM unnest($2::text[]) AS t(name)
                        CROSS JOIN LATERAL (
                          SELECT f.rows_loaded FROM etl_runs r JOIN etl_run_files f ON f.run_id = r.id AND f.table_name = t.name
                           WHERE r.school_id = $1 AND r.status IN ('succeeded', 'warning') AND NOT r.dry_run AND f.mode = 'full' AND f.error IS NULL
                           ORDER BY r.id DESC LIMIT 1) AS l`,
  listRuns: 'SELECT * FROM etl_runs WHERE ($1::text IS NULL OR school_id = $1) ORDER BY id DESC LIMIT $2',
  getRun: 'SELECT * FROM etl_runs WHERE id = $1',
  /** $1 school, $2 run id. */
  publishedRunsAfter: `SELECT * FROM etl_runs WHERE school_id = $1 AND id > $2 AND status IN ('succeeded', 'warning') AND NOT dry_run ORDER BY id DESC`,
  /**
   * $1 school, $2 how many published runs keep their history, $3 the oldest run end whose history
   * is kept in compact form (ETL_HISTORY_DAYS). In one statement: the oldest kept run is the
   * `keep`-th newest published one; every earlier run not yet pruned that may hold changes
   * (published, or rolled back) is marked, its changes go, and those of a published run that
   * ended since $3 move to the compact history first (etl_history_recent, migrations 010, 012; every part of
   * the statement reads the changes as they were before it). The compact history of the school's
   * runs that ended before $3 goes, and their rejects with it (keys, codes and the lines kept for
   * an admin, which are personal data; the held entries of history are read from them); the
   * runs keep their counts.
   */
  pruneChanges: `WITH oldest_kept AS (
    SELECT id FROM etl_runs WHERE school_id = $1 AND status IN ('succeeded', 'warning') AND NOT dry_run
     ORDER BY id DESC LIMIT 1 OFFSET greatest($2::integer - 1, 0)
  ), pruned AS (
    UPDATE etl_runs AS r SET changes_pruned = true FROM oldest_kept AS k
     WHERE r.school_id = $1 AND r.id < k.id AND NOT r.changes_pruned AND r.status IN ('succeeded', 'warning', 'rolled_back')
    RETURNING r.id
  ), compacted AS (
    ${compact('h.run_id IN (SELECT id FROM pruned) AND h.run_time >= $3::timestamptz')}
  ), deleted AS (
    DELETE FROM etl_changes AS c USING pruned AS p WHERE c.run_id = p.id
  ), last_expired AS (
    ${LAST_EXPIRED_RUN}
  ), expired AS (
    DELETE FROM etl_history_packed AS h WHERE h.school_id = $1 AND h.run_id <= (SELECT id FROM last_expired)
  ), expired_rejects AS (
    DELETE FROM etl_rejects AS j WHERE j.run_id IN (
      SELECT id FROM etl_runs WHERE school_id = $1 AND id <= (SELECT id FROM last_expired))
  )
  SELECT id FROM pruned ORDER BY id`,
  /**
   * $1 base table: every run with changes logged for it, of any school, is marked pruned and loses
   * all its changes (a run undone in part would be worse than one not undone at all). What they
   * published moves to the compact history, as pruneChanges does; the next night's prune drops what is
   * past ETL_HISTORY_DAYS. Rows of the rekeyed table keep the keys they had then.
   */
  pruneTableChanges: `WITH touched AS (
    SELECT DISTINCT run_id FROM etl_changes WHERE table_name = $1
  ), pruned AS (
    UPDATE etl_runs AS r SET changes_pruned = true FROM touched AS t WHERE r.id = t.run_id RETURNING r.id
  ), compacted AS (
    ${compact('h.run_id IN (SELECT id FROM pruned)')}
  ), deleted AS (
    DELETE FROM etl_changes AS c USING pruned AS p WHERE c.run_id = p.id
  )
  SELECT id FROM pruned ORDER BY id`,
  insertRollback: `INSERT INTO etl_rollbacks (school_id, target_run_id, run_ids, requested_by, reason, started_at, finished_at, rows_deleted, rows_restored, detail)
                   VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9, $10::jsonb) RETURNING id`,
  /** $1 rollback id, $2 the runs it undid. */
  markRolledBack: `UPDATE etl_runs SET finished_as = status, status = 'rolled_back', rollback_id = $1 WHERE id = ANY($2::bigint[])`,
  listRollbacks: 'SELECT * FROM etl_rollbacks WHERE ($1::text IS NULL OR school_id = $1) ORDER BY id DESC LIMIT $2',
} as const;
