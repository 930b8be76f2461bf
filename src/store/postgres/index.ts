import { setTimeout as sleep } from 'node:timers/promises';

import pg from 'pg';
import type { PoolClient } from 'pg';

import { EtlError, type Reject } from '../../errors/index.js';
import type { MirrorTable } from '../../schema/index.js';
import {
  HISTORY_SQL,
  RUN_DETAIL_SQL,
  SUMMARY_SQL,
  TABLE_ROWS_SQL,
  toRejectRecord,
  toHistoryEntry,
  toRollbackRecord,
  toPreviousLoad,
  toRunFileRecord,
  toRunRecord,
  toSchoolSummaries,
  toTableRowCounts,
} from '../common.js';
import type { LoadTransaction, RunFileRecord, RunOutcome, RunRecord, RunSession, Store } from '../types.js';
import { readDigest } from './digest.js';
import { mergePostgres, type WriterOptions } from './writer.js';
import { countRowsSql, ensurePostgresMirror } from './mirror.js';
import { ensurePostgresViews } from './views.js';
import { LEDGER, MIGRATIONS } from './ledger.js';
import { addPrimaryKeySql, createSchemaSql, LOCKS, RAISE_WORK_MEM, SCHEMA_EXISTS, sessionSetupSql } from './sql.js';
import { rekeyPostgres } from './rekey.js';
import { planUndoPostgres, undoRunPostgres } from './undo.js';
import { FLUSH_STATS, vacuumDue } from './vacuum.js';

export { isTransientPostgresError } from './errors.js';
import { unavailable } from './errors.js';
import { createPostgresConsole } from './console.js';

/**
 * The production store: PostgreSQL through a node-postgres pool, every table in one schema. A run
 * holds a session-level advisory lock for its school on a dedicated connection, so one school's
 * runs never overlap across processes and machines, while other schools load alongside it. If
 * the process dies, its connection ends and PostgreSQL releases the lock by itself.
 */

/** How the store writes a file's rows; tests set segments small to cross many of them. */
export type PostgresWriterOptions = Pick<WriterOptions, 'segmentRows'>;

export interface PostgresStoreOptions extends PostgresWriterOptions {
  /** How long opening a connection may take, in ms (ETL_DB_CONNECT_TIMEOUT_MS); default 10000. */
  readonly connectTimeoutMs?: number;
}

/** How often a run waiting for its school's lock tries again, in ms. */
const LOCK_POLL_MS = 200;

/** Rejects per INSERT: bounds one statement's size when a file rejects many rows. */
const REJECTS_PER_STATEMENT = 5000;

const SAVEPOINT = 'cases_etl_publish';

/** The URL without user, password or query (which may carry a password), for logs and `location`. */
function describeUrl(url: string, schema: string): string {
  try {
    const u = new URL(url);
    return `postgres://${u.host}${u.pathname} (schema ${schema})`;
  } catch {
    return `postgres (schema ${schema})`;
  }
}

/** Writes a finished run's row, its files and its rejects: three statements whatever their number. */
async function writeOutcome(
  client: PoolClient,
  runId: number,
  outcome: RunOutcome,
  files: readonly RunFileRecord[],
  rejects: readonly Reject[],
): Promise<void> {
  await client.query(LEDGER.finishRun, [
    runId,
    outcome.status,
    outcome.finishedAt,
    outcome.files,
    outcome.records,
    outcome.rows,
    outcome.rejected,
    outcome.errorRate,
    outcome.inserted,
    outcome.updated,
    outcome.deactivated,
    outcome.reactivated,
    outcome.unchanged,
    outcome.filesetSha256,
    JSON.stringify(outcome.overrides),
    outcome.reason,
    outcome.errorCode,
    outcome.held,
    outcome.deferred,
  ]);
  if (files.length > 0) {
    const col = <K extends keyof RunFileRecord>(k: K): Array<RunFileRecord[K]> => files.map((f) => f[k]);
    await client.query(LEDGER.insertRunFiles, [
      runId,
      col('fileName'),
      col('table'),
      col('tableId'),
      col('mode'),
      col('sha256'),
      col('bytes'),
      col('records'),
      col('rows'),
      col('rejected'),
      col('inserted'),
      col('updated'),
      col('deactivated'),
      col('reactivated'),
      col('unchanged'),
      col('error'),
      col('held'),
      col('deferred'),
      col('readAs'),
      col('unchangedSince'),
    ]);
  }
  for (let i = 0; i < rejects.length; i += REJECTS_PER_STATEMENT) {
    const part = rejects.slice(i, i + REJECTS_PER_STATEMENT);
    const col = <K extends keyof Reject>(k: K): Array<Reject[K]> => part.map((r) => r[k]);
    await client.query(LEDGER.insertRejects, [
      runId,
      col('file'),
      col('line'),
      col('key'),
      col('field'),
      col('code'),
      col('message'),
      col('raw'),
      col('rawBytes'),
    ]);
  }
}

/** Runs `fn` between BEGIN and COMMIT on `client`, rolling back when it throws. */
async function inTransaction<T>(client: PoolClient, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await fn();
    await client.query('COMMIT');
    return result;
  } catch (err) {
    // A failed ROLLBACK means the connection is gone, which rolls back too; the first error is the story.
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** The work a run does on its dedicated connection: the RunSession and its LoadTransaction. */
function createSession(client: PoolClient, schema: string, writer: PostgresWriterOptions): RunSession {
  // Temporary tables are named by a counter: a transaction may merge many files and undo many runs.
  let stages = 0;
  let undos = 0;
  /**
   * Mirror tables created in this transaction without their primary key, which is added once
   * their first load is in (see addPrimaryKeySql), or at the latest before COMMIT; and whether
   * each was created after the savepoint, so that rolling back to it forgets them.
   */
  const keyless = new Map<string, { readonly mirror: MirrorTable; readonly afterSavepoint: boolean }>();
  let savepointTaken = false;
  /** Whether `name` was created in the current subtransaction, so that a first load may COPY FREEZE it. */
  const createdHere = (name: string): boolean => keyless.get(name)?.afterSavepoint === savepointTaken;
  /** Whether RAISE_WORK_MEM is in force: it lasts the transaction, or until a rollback to the savepoint. */
  let workMemRaised = false;
  const addKey = async (name: string): Promise<void> => {
    const entry = keyless.get(name);
    if (!entry) return;
    await client.query(addPrimaryKeySql(entry.mirror));
    keyless.delete(name);
  };

  const tx: LoadTransaction = {
    async ensureMirror(mirror) {
      if (!(await ensurePostgresMirror(client, schema, mirror, true))) return;
      keyless.set(mirror.name, { mirror, afterSavepoint: savepointTaken });
    },
    ensureViews: (views) => ensurePostgresViews(client, schema, views),
    readDigest: (mirror, school) => readDigest(client, mirror, school),
    async mergeFile(input, batches) {
      if (!workMemRaised) {
        await client.query(RAISE_WORK_MEM);
        workMemRaised = true;
      }
      const counts = await mergePostgres(client, `cases_etl_stage_${++stages}`, input, batches, {
        createdHere: createdHere(input.mirror.name),
        ...writer,
      });
      await addKey(input.mirror.name);
      return counts;
    },
    async savepoint() {
      await client.query(`SAVEPOINT ${SAVEPOINT}`);
      savepointTaken = true;
    },
    async rollbackToSavepoint() {
      await client.query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`);
      workMemRaised = false;
      // Tables created since the savepoint are gone again; older ones still want their key.
      for (const [name, entry] of keyless) if (entry.afterSavepoint) keyless.delete(name);
    },
    async latestPublishedFileset(school) {
      type Row = { id: string; fileset_sha256: string; rollback_id: string | null };
      const row = (await client.query<Row>(LEDGER.latestPublishedFileset, [school])).rows[0];
      return row
        ? {
            runId: Number(row.id),
            filesetSha256: row.fileset_sha256,
            rollbackId: row.rollback_id === null ? null : Number(row.rollback_id),
          }
        : null;
    },
    async previousLoad(school, table) {
      return (await client.query<Record<string, unknown>>(LEDGER.previousLoad, [school, table])).rows.map(
        toPreviousLoad,
      );
    },
    async countRows(mirror, school) {
      const { rows } = await client.query<{ n: string }>(countRowsSql(mirror), [school]);
      return Number(rows[0]?.n ?? 0);
    },
    async lastPublishedRows(school, tables) {
      const rows = (
        await client.query<{ table_name: string; rows_loaded: number }>(LEDGER.lastPublishedRows, [
          school,
          [...new Set(tables)],
        ])
      ).rows;
      return new Map(rows.map((r) => [r.table_name, Number(r.rows_loaded)]));
    },
    async failInterruptedRuns(school, currentRunId) {
      // Unlike SQLite, no pid check is needed: this session holds the school's lock, and a live
      // run would hold it too, so every other 'running' row belongs to a run that died.
      return (await client.query(LEDGER.failInterrupted, [school, currentRunId])).rowCount ?? 0;
    },
    recordRun: (runId, outcome, files, rejects) => writeOutcome(client, runId, outcome, files, rejects),
    async pruneChanges(school, keep, historySince) {
      return (await client.query<{ id: string }>(LEDGER.pruneChanges, [school, keep, historySince])).rows.map((r) =>
        Number(r.id),
      );
    },
    async getRun(id) {
      const row = (await client.query<Record<string, unknown>>(LEDGER.getRun, [id])).rows[0];
      return row ? toRunRecord(row) : null;
    },
    async publishedRunsAfter(school, runId) {
      return (await client.query<Record<string, unknown>>(LEDGER.publishedRunsAfter, [school, runId])).rows.map(
        toRunRecord,
      );
    },
    planUndo: (runId) => planUndoPostgres(client, runId),
    undoRun: (runId) => undoRunPostgres(client, schema, `cases_etl_undo_${++undos}`, runId),
    async recordRollback(r) {
      const { rows } = await client.query<{ id: string }>(LEDGER.insertRollback, [
        r.school,
        r.targetRunId,
        JSON.stringify(r.runIds),
        r.requestedBy,
        r.reason,
        r.startedAt,
        r.finishedAt,
        r.rowsDeleted,
        r.rowsRestored,
        JSON.stringify(r.detail),
      ]);
      const id = rows[0]?.id;
      if (id === undefined) throw new Error('INSERT INTO etl_rollbacks returned no id');
      await client.query(LEDGER.markRolledBack, [id, r.runIds]);
      return Number(id);
    },
  };

  return {
    async startRun(run) {
      const { rows } = await client.query<{ id: string }>(LEDGER.insertRun, [
        run.school,
        run.trigger,
        run.jobId,
        run.dryRun,
        run.sourceDir,
        run.host,
        run.pid,
        run.startedAt,
      ]);
      const id = rows[0]?.id;
      if (id === undefined) throw new Error('INSERT INTO etl_runs returned no id');
      return Number(id);
    },
    transaction: (fn) => {
      keyless.clear();
      savepointTaken = false;
      workMemRaised = false;
      return inTransaction(client, async () => {
        const result = await fn(tx);
        for (const name of [...keyless.keys()]) await addKey(name);
        return result;
      }).then(async (result) => {
        // Committed: what the run wrote reaches the table statistics now (see vacuum.ts). Only
        // housekeeping, so a failure here is no failure of the night.
        await client.query(FLUSH_STATS).catch(() => undefined);
        return result;
      });
    },
    recordFailure: (runId, outcome, files, rejects) =>
      inTransaction(client, () => writeOutcome(client, runId, outcome, files, rejects)),
    async setArchivePath(runId, archivePath) {
      await client.query(LEDGER.setArchivePath, [archivePath, runId]);
    },
  };
}

/**
 * Opens a PostgreSQL store on `url` whose tables live in `schema` (created by `migrate()`).
 * Connections are pooled (node-postgres defaults: up to 10); each sets its search_path and
 * DateStyle before its first use.
 */
export function createPostgresStore(url: string, schema: string, options: PostgresStoreOptions = {}): Store {
  const { connectTimeoutMs = 10_000, ...writer } = options;
  // A connection that cannot open within the timeout fails (a host that drops packets would
  // otherwise hang every command); keepAlive notices a peer that vanished under a long run.
  const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs, keepAlive: true });
  // An idle pooled connection that dies (server restart) emits 'error'; unhandled, that would end
  // the process. The pool drops the connection and the next checkout opens a fresh one.
  pool.on('error', () => undefined);
  const prepared = new WeakSet<PoolClient>();
  const setup = sessionSetupSql(schema);

  /** A pooled connection with the session set up (once per connection, before any other query). */
  async function checkout(): Promise<PoolClient> {
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      throw unavailable(err, describeUrl(url, schema), connectTimeoutMs);
    }
    if (prepared.has(client)) return client;
    try {
      await client.query(setup);
    } catch (err) {
      client.release(err instanceof Error ? err : true);
      throw err;
    }
    // The pool listens for errors only while a connection is idle. A run holds its connection
    // for minutes between queries; if the server ends it then, node-postgres emits 'error', which
    // unheard would end the process. The run's next query fails instead, and the pool drops the
    // connection when it comes back.
    client.on('error', () => undefined);
    prepared.add(client);
    return client;
  }

  async function withClient<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await checkout();
    try {
      return await fn(client);
    } finally {
      client.release();
    }
  }

  /** Polls for the school's run lock until `timeoutMs` has passed. */
  async function lockSchool(client: PoolClient, school: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await client.query<{ locked: boolean }>(LOCKS.tryRun, [schema, school]);
      if (rows[0]?.locked === true) return;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new EtlError(
          'ETL_RUN_LOCKED',
          `another run of school ${school} still held its lock after ${timeoutMs} ms`,
        );
      await sleep(Math.min(LOCK_POLL_MS, left));
    }
  }

  return {
    dialect: 'postgres',
    location: describeUrl(url, schema),
    ...createPostgresConsole(withClient),
    migrate: () =>
      withClient((client) =>
        inTransaction(client, async () => {
          // Several processes may start at once: the first applies the migrations, the others
          // wait here and then find them applied.
          await client.query(LOCKS.migrate);
          // A DBA may have made the schema for a role that may not create schemas: leave it be.
          const exists = (await client.query<{ present: boolean }>(SCHEMA_EXISTS, [schema])).rows[0]?.present === true;
          if (!exists) await client.query(createSchemaSql(schema));
          await client.query(LEDGER.createMigrations);
          const applied = new Set(
            (await client.query<{ version: number }>(LEDGER.appliedMigrations)).rows.map((r) => r.version),
          );
          const names: string[] = [];
          for (const m of MIGRATIONS) {
            if (applied.has(m.version)) continue;
            await client.query(m.sql);
            await client.query(LEDGER.recordMigration, [m.version, m.name]);
            names.push(m.name);
          }
          return names;
        }),
      ),
    pendingMigrations: () =>
      withClient(async (client) => {
        const present = await client.query<{ present: boolean }>(
          `SELECT to_regclass(format('%I.etl_migrations', $1::text)) IS NOT NULL AS present`,
          [schema],
        );
        if (present.rows[0]?.present !== true) return null;
        const applied = new Set(
          (await client.query<{ version: number }>(LEDGER.appliedMigrations)).rows.map((r) => r.version),
        );
        return MIGRATIONS.filter((m) => !applied.has(m.version)).map((m) => m.name);
      }),
    async withRunSession(school, timeoutMs, fn) {
      const client = await checkout();
      try {
        await lockSchool(client, school, timeoutMs);
      } catch (err) {
        // Only a connection that merely found the lock taken is fit to go back to the pool.
        client.release(err instanceof EtlError ? undefined : err instanceof Error ? err : true);
        throw err;
      }
      try {
        return await fn(createSession(client, schema, writer));
      } finally {
        try {
          await client.query(LOCKS.unlockRun, [schema, school]);
          client.release();
        } catch (err) {
          // Ending the connection is what frees a lock we could not release by hand.
          client.release(err instanceof Error ? err : true);
        }
      }
    },
    listRuns: (filter) =>
      withClient(async (client) =>
        (await client.query<Record<string, unknown>>(LEDGER.listRuns, [filter.school ?? null, filter.limit])).rows.map(
          toRunRecord,
        ),
      ),
    getRun: (id): Promise<RunRecord | null> =>
      withClient(async (client) => {
        const row = (await client.query<Record<string, unknown>>(LEDGER.getRun, [id])).rows[0];
        return row ? toRunRecord(row) : null;
      }),
    listRollbacks: (filter) =>
      withClient(async (client) =>
        (
          await client.query<Record<string, unknown>>(LEDGER.listRollbacks, [filter.school ?? null, filter.limit])
        ).rows.map(toRollbackRecord),
      ),
    listRunFiles: (runId) =>
      withClient(async (client) =>
        (await client.query<Record<string, unknown>>(RUN_DETAIL_SQL.files, [runId])).rows.map(toRunFileRecord),
      ),
    listRejects: (runId, limit, options = {}) =>
      withClient(async (client) => {
        const sql = options.originals === true ? RUN_DETAIL_SQL.rejectsWithOriginals : RUN_DETAIL_SQL.rejects;
        return (await client.query<Record<string, unknown>>(sql, [runId, limit])).rows.map(toRejectRecord);
      }),
    schoolSummaries: () =>
      withClient(async (client) => {
        const all = async (sql: string): Promise<Array<Record<string, unknown>>> =>
          (await client.query<Record<string, unknown>>(sql)).rows;
        return toSchoolSummaries(
          await all(SUMMARY_SQL.byStatus),
          await all(SUMMARY_SQL.lastRuns),
          await all(SUMMARY_SQL.rollbacks),
        );
      }),
    tableRows: (after, through) =>
      withClient(async (client) => {
        const upTo = through ?? (await client.query<{ through: string }>(TABLE_ROWS_SQL.watermark)).rows[0]?.through;
        const { rows } = await client.query<Record<string, unknown>>(TABLE_ROWS_SQL.counts, [after, upTo ?? 0]);
        return toTableRowCounts(upTo, rows);
      }),
    rowHistory: (school, table, key) =>
      withClient(async (client) => {
        const { rows } =
          school === null
            ? await client.query<Record<string, unknown>>(HISTORY_SQL.anyRow, [table, key])
            : await client.query<Record<string, unknown>>(HISTORY_SQL.schoolRow, [school, table, key]);
        return rows.map(toHistoryEntry);
      }),
    historyTables: (school) =>
      withClient(async (client) => {
        const { rows } =
          school === null
            ? await client.query<{ table_name: string }>(HISTORY_SQL.anyTables)
            : await client.query<{ table_name: string }>(HISTORY_SQL.schoolTables, [school]);
        return rows.map((r) => r.table_name);
      }),
    reclaim: (tables) => withClient((client) => vacuumDue(client, schema, tables)),
    rekeyMirror: (mirror) => withClient((client) => inTransaction(client, () => rekeyPostgres(client, schema, mirror))),
    async close() {
      await pool.end();
    },
  };
}
