import { mkdirSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';

import BetterSqlite3, { type Database, type Statement } from 'better-sqlite3';

import { EtlError } from '../../errors/index.js';
import {
  createMutex,
  HISTORY_SQL,
  isProcessAlive,
  RUN_DETAIL_SQL,
  SUMMARY_SQL,
  TABLE_ROWS_SQL,
  toHistoryEntry,
  toRejectRecord,
  toRollbackRecord,
  toPreviousLoad,
  toRunFileRecord,
  toRunRecord,
  toSchoolSummaries,
  toTableRowCounts,
} from '../common.js';
import type { LoadTransaction, RunOutcome, RunRecord, RunSession, Store } from '../types.js';
import { readDigest } from './digest.js';
import { mergeSqlite } from './writer.js';
import { rekeySqlite } from './rekey.js';
import { planUndoSqlite, undoRunSqlite } from './undo.js';
import { LEDGER, MIGRATIONS } from './ledger.js';
import { activeIndexSql, countRowsSql, ensureSqliteMirror } from './mirror.js';
import { ensureSqliteViews } from './views.js';
import { reclaimSqlite } from './vacuum.js';
import { cannotOpen } from './errors.js';
import { createSqliteConsole } from './console.js';

/**
 * The embedded store: one SQLite file through better-sqlite3, in WAL mode. SQLite has one writer
 * at a time, which is the run lock across processes; inside this process a mutex keeps runs from
 * sharing the connection's transaction.
 */
/** How long one SQLite call may block waiting for a lock, in ms. */
const SHORT_BUSY_MS = 50;

const isBusy = (err: unknown): boolean => {
  const code = (err as { code?: unknown }).code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT' || code === 'SQLITE_LOCKED';
};

/** Calls `fn` until it stops failing with SQLITE_BUSY, sleeping between tries, for at most `timeoutMs`. */
async function whenWritable<T>(fn: () => T, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let wait = 20; ; wait = Math.min(wait * 2, 500)) {
    try {
      return fn();
    } catch (err) {
      if (!isBusy(err)) throw err;
      if (Date.now() >= deadline)
        throw new EtlError(
          'ETL_RUN_LOCKED',
          `the database stayed locked by another process for ${timeoutMs} ms (${what})`,
          { cause: err },
        );
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

export function createSqliteStore(path: string, options: { busyTimeoutMs: number; existing?: boolean }): Store {
  // `existing`: open a database file that is there, for reading; create no directory or file and
  // leave its journal mode be (setting it writes the file's header).
  let db: Database;
  try {
    if (path !== ':memory:' && options.existing !== true) makeFolders(dirname(path));
    db = new BetterSqlite3(path, { fileMustExist: options.existing === true });
    // Reads the file's header: a file that is not a database fails here.
    if (options.existing !== true) db.pragma('journal_mode = WAL');
    else db.pragma('schema_version');
  } catch (err) {
    throw cannotOpen(err, path);
  }
  db.pragma('synchronous = NORMAL');
  // better-sqlite3 is synchronous: a long busy_timeout would freeze this process's event loop
  // (and a worker's job-lock renewals) while another process holds the write lock. So SQLite waits
  // only briefly, and the waiting for the write lock happens in `whenWritable`, asynchronously.
  db.pragma(`busy_timeout = ${SHORT_BUSY_MS}`);
  db.pragma('foreign_keys = ON');
  const mutex = createMutex();

  // Statements are prepared on first use: the tables they name may not exist until migrate().
  const prepared = new Map<string, Statement>();
  const stmt = (sql: string): Statement => {
    let s = prepared.get(sql);
    if (!s) prepared.set(sql, (s = db.prepare(sql)));
    return s;
  };

  function writeOutcome(
    runId: number,
    outcome: RunOutcome,
    files: Parameters<LoadTransaction['recordRun']>[2],
    rejects: Parameters<LoadTransaction['recordRun']>[3],
  ): void {
    stmt(LEDGER.finishRun).run({
      id: runId,
      status: outcome.status,
      finishedAt: outcome.finishedAt.toISOString(),
      files: outcome.files,
      records: outcome.records,
      rows: outcome.rows,
      rejected: outcome.rejected,
      errorRate: outcome.errorRate,
      inserted: outcome.inserted,
      updated: outcome.updated,
      deactivated: outcome.deactivated,
      reactivated: outcome.reactivated,
      unchanged: outcome.unchanged,
      held: outcome.held,
      deferred: outcome.deferred,
      filesetSha256: outcome.filesetSha256,
      overrides: JSON.stringify(outcome.overrides),
      reason: outcome.reason,
      errorCode: outcome.errorCode,
    });
    for (const f of files) stmt(LEDGER.insertRunFile).run({ runId, ...f });
    for (const r of rejects)
      stmt(LEDGER.insertReject).run(runId, r.file, r.line, r.key, r.field, r.code, r.message, r.raw, r.rawBytes);
  }

  // Mirror tables made for a load and not yet loaded: their index of active rows is built once
  // the first load is in (one sort, where keeping it up row by row cost a first load 5%).
  const unindexed = new Set<string>();
  const tx: LoadTransaction = {
    async ensureMirror(mirror) {
      if (ensureSqliteMirror(db, mirror)) unindexed.add(mirror.name);
    },
    async ensureViews(views) {
      // SQLite lets a view be dropped that others read: none is ever kept.
      ensureSqliteViews(db, views);
      return [];
    },
    readDigest: async (mirror, school) => readDigest(db, mirror, school),
    async mergeFile(input, batches) {
      try {
        return await mergeSqlite(db, input, batches);
      } finally {
        // Even when the load failed and the run goes on: the table stays. Should this fail too,
        // the table's next load makes the index (ensureSqliteMirror).
        if (unindexed.delete(input.mirror.name))
          try {
            db.exec(activeIndexSql(input.mirror));
          } catch {
            // See above.
          }
      }
    },
    async savepoint() {
      db.exec('SAVEPOINT cases_etl_publish');
    },
    async rollbackToSavepoint() {
      db.exec('ROLLBACK TO cases_etl_publish');
    },
    async latestPublishedFileset(school) {
      const row = stmt(LEDGER.latestPublishedFileset).get(school) as
        { id: number; fileset_sha256: string; rollback_id: number | null } | undefined;
      return row ? { runId: row.id, filesetSha256: row.fileset_sha256, rollbackId: row.rollback_id } : null;
    },
    async previousLoad(school, table) {
      return (stmt(LEDGER.previousLoad).all({ school, table }) as Array<Record<string, unknown>>).map(toPreviousLoad);
    },
    async countRows(mirror, school) {
      return db.prepare(countRowsSql(mirror)).pluck().get(school) as number;
    },
    async lastPublishedRows(school, tables) {
      const last = new Map<string, number>();
      for (const table of new Set(tables)) {
        const row = stmt(LEDGER.lastPublishedRows).get(table, school) as { rows_loaded: number } | undefined;
        if (row) last.set(table, row.rows_loaded);
      }
      return last;
    },
    async failInterruptedRuns(school, currentRunId) {
      const here = hostname();
      const stale = (
        stmt(LEDGER.runningRuns).all(school, currentRunId) as Array<{
          id: number;
          host: string | null;
          pid: number | null;
        }>
      ).filter((r) => r.host === here && r.pid !== null && !isProcessAlive(r.pid));
      const fail = stmt(LEDGER.failRun);
      for (const r of stale)
        fail.run(
          new Date().toISOString(),
          'interrupted: the process ended before the run finished; nothing it did was published',
          r.id,
        );
      return stale.length;
    },
    async recordRun(runId, outcome, files, rejects) {
      writeOutcome(runId, outcome, files, rejects);
    },
    async pruneChanges(school, keep, historySince) {
      const since = historySince.toISOString();
      const oldestKept = stmt(LEDGER.oldestKeptRun).get(school, Math.max(0, keep - 1)) as { id: number } | undefined;
      const runs = oldestKept
        ? (stmt(LEDGER.prunableRuns).all(school, oldestKept.id) as Array<{ id: number }>).map((r) => r.id)
        : [];
      // Each run's published changes move to the compact history before they go (see ledger.ts).
      for (const id of runs) {
        stmt(LEDGER.compactRun).run(id, since);
        stmt(LEDGER.deleteChanges).run(id);
        stmt(LEDGER.markPruned).run(id);
      }
      const last = stmt(LEDGER.lastExpiredRun).get({ school, since }) as { id: number } | undefined;
      if (last !== undefined) {
        stmt(LEDGER.expireHistory).run({ school, last: last.id });
        stmt(LEDGER.expireRejects).run({ school, last: last.id });
      }
      return runs;
    },
    async getRun(id) {
      const row = stmt(LEDGER.getRun).get(id) as Record<string, unknown> | undefined;
      return row ? toRunRecord(row) : null;
    },
    async publishedRunsAfter(school, runId) {
      return (stmt(LEDGER.publishedRunsAfter).all(school, runId) as Array<Record<string, unknown>>).map(toRunRecord);
    },
    async planUndo(runId) {
      return planUndoSqlite(db, runId);
    },
    async undoRun(runId) {
      return undoRunSqlite(db, runId);
    },
    async recordRollback(r) {
      const info = stmt(LEDGER.insertRollback).run({
        school: r.school,
        targetRunId: r.targetRunId,
        runIds: JSON.stringify(r.runIds),
        requestedBy: r.requestedBy,
        reason: r.reason,
        startedAt: r.startedAt.toISOString(),
        finishedAt: r.finishedAt.toISOString(),
        rowsDeleted: r.rowsDeleted,
        rowsRestored: r.rowsRestored,
        detail: JSON.stringify(r.detail),
      });
      const id = Number(info.lastInsertRowid);
      for (const runId of r.runIds) stmt(LEDGER.markRolledBack).run(id, runId);
      return id;
    },
  };

  const session: RunSession = {
    async startRun(run) {
      const info = await whenWritable(
        () =>
          stmt(LEDGER.insertRun).run({
            school: run.school,
            trigger: run.trigger,
            jobId: run.jobId,
            dryRun: run.dryRun ? 1 : 0,
            sourceDir: run.sourceDir,
            host: run.host,
            pid: run.pid,
            startedAt: run.startedAt.toISOString(),
          }),
        options.busyTimeoutMs,
        'starting a run',
      );
      return Number(info.lastInsertRowid);
    },
    async transaction(fn) {
      // IMMEDIATE takes the write lock now, not at the first write.
      await whenWritable(() => db.exec('BEGIN IMMEDIATE'), options.busyTimeoutMs, 'starting a transaction');
      try {
        const result = await fn(tx);
        db.exec('COMMIT');
        return result;
      } catch (err) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw err;
      }
    },
    async recordFailure(runId, outcome, files, rejects) {
      await whenWritable(() => db.exec('BEGIN IMMEDIATE'), options.busyTimeoutMs, 'recording a failed run');
      try {
        writeOutcome(runId, outcome, files, rejects);
        db.exec('COMMIT');
      } catch (err) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw err;
      }
    },
    async setArchivePath(runId, archivePath) {
      await whenWritable(
        () => stmt(LEDGER.setArchivePath).run(archivePath, runId),
        options.busyTimeoutMs,
        'recording the archive',
      );
    },
  };

  return {
    dialect: 'sqlite',
    location: `sqlite:${path}`,
    ...createSqliteConsole(db),
    async migrate() {
      await whenWritable(() => db.exec('BEGIN IMMEDIATE'), options.busyTimeoutMs, 'migrating');
      try {
        db.exec(LEDGER.createMigrations);
        const applied = new Set(
          (stmt(LEDGER.appliedMigrations).all() as Array<{ version: number }>).map((r) => r.version),
        );
        const names: string[] = [];
        for (const m of MIGRATIONS) {
          if (applied.has(m.version)) continue;
          db.exec(m.sql);
          stmt(LEDGER.recordMigration).run(m.version, m.name, new Date().toISOString());
          names.push(m.name);
        }
        db.exec('COMMIT');
        return names;
      } catch (err) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw err;
      }
    },
    async pendingMigrations() {
      const present = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'etl_migrations'`).get();
      if (present === undefined) return null;
      const applied = new Set(
        (stmt(LEDGER.appliedMigrations).all() as Array<{ version: number }>).map((r) => r.version),
      );
      return MIGRATIONS.filter((m) => !applied.has(m.version)).map((m) => m.name);
    },
    async withRunSession(_school, timeoutMs, fn) {
      const release = await mutex.acquire(timeoutMs);
      if (!release) throw new EtlError('ETL_RUN_LOCKED', `another run is still using ${path} after ${timeoutMs} ms`);
      try {
        return await fn(session);
      } finally {
        release();
      }
    },
    async listRuns(filter) {
      return (
        stmt(LEDGER.listRuns).all({ school: filter.school ?? null, limit: filter.limit }) as Array<
          Record<string, unknown>
        >
      ).map(toRunRecord);
    },
    async getRun(id): Promise<RunRecord | null> {
      return tx.getRun(id);
    },
    async listRollbacks(filter) {
      return (
        stmt(LEDGER.listRollbacks).all({ school: filter.school ?? null, limit: filter.limit }) as Array<
          Record<string, unknown>
        >
      ).map(toRollbackRecord);
    },
    async listRunFiles(runId) {
      return (stmt(RUN_DETAIL_SQL.files.replace(/\$\d/g, '?')).all(runId) as Array<Record<string, unknown>>).map(
        toRunFileRecord,
      );
    },
    async listRejects(runId, limit, options = {}) {
      const sql = options.originals === true ? RUN_DETAIL_SQL.rejectsWithOriginals : RUN_DETAIL_SQL.rejects;
      return (stmt(sql.replace(/\$\d/g, '?')).all(runId, limit) as Array<Record<string, unknown>>).map(toRejectRecord);
    },
    async schoolSummaries() {
      const all = (sql: string): Array<Record<string, unknown>> => stmt(sql).all() as Array<Record<string, unknown>>;
      return toSchoolSummaries(all(SUMMARY_SQL.byStatus), all(SUMMARY_SQL.lastRuns), all(SUMMARY_SQL.rollbacks));
    },
    async tableRows(after, through) {
      const upTo = through ?? (stmt(TABLE_ROWS_SQL.watermark).pluck().get() as number);
      const rows = stmt(TABLE_ROWS_SQL.counts.replace(/\$\d/g, '?')).all(after, upTo) as Array<Record<string, unknown>>;
      return toTableRowCounts(upTo, rows);
    },
    async rowHistory(school, table, key) {
      const rows =
        school === null
          ? stmt(placeholders(HISTORY_SQL.anyRow)).all(table, key)
          : stmt(placeholders(HISTORY_SQL.schoolRow)).all(school, table, key);
      return (rows as Array<Record<string, unknown>>).map(toHistoryEntry);
    },
    async historyTables(school) {
      const rows =
        school === null ? stmt(HISTORY_SQL.anyTables).all() : stmt(placeholders(HISTORY_SQL.schoolTables)).all(school);
      return (rows as Array<{ table_name: string }>).map((r) => r.table_name);
    },
    async reclaim() {
      return reclaimSqlite();
    },
    async rekeyMirror(mirror) {
      // Not while a run of this process holds the connection's transaction.
      const release = await mutex.acquire(options.busyTimeoutMs);
      if (!release)
        throw new EtlError('ETL_RUN_LOCKED', `a run was still using ${path} after ${options.busyTimeoutMs} ms`);
      try {
        await whenWritable(() => db.exec('BEGIN IMMEDIATE'), options.busyTimeoutMs, 'rekeying a mirror table');
        try {
          const result = rekeySqlite(db, mirror);
          db.exec('COMMIT');
          return result;
        } catch (err) {
          if (db.inTransaction) db.exec('ROLLBACK');
          throw err;
        }
      } finally {
        release();
      }
    },
    async close() {
      db.close();
    },
  };
}

/** A statement shared with PostgreSQL (store/common.ts) with its `$n` placeholders as `?`, in order. */
const placeholders = (sql: string): string => sql.replace(/\$\d/g, '?');

/**
 * Makes `dir` and any missing folders above it, one level at a time. Node's recursive mkdir
 * spins for ever where the file system refuses a folder without saying why (under /proc it
 * answers ENOENT and EEXIST in turn); this fails with the first refusal instead.
 */
function makeFolders(dir: string): void {
  try {
    if (statSync(dir).isDirectory()) return;
  } catch {
    // Not there (or not reachable): make it below.
  }
  const parent = dirname(dir);
  if (parent !== dir) makeFolders(parent);
  try {
    mkdirSync(dir);
  } catch (err) {
    // Another process made it meanwhile: that is the folder wanted.
    if ((err as { code?: unknown }).code === 'EEXIST' && statSync(dir, { throwIfNoEntry: false })?.isDirectory())
      return;
    throw err;
  }
}
