import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { isEtlError, type Reject } from '../src/errors/index.js';
import { loadBuiltinLayouts } from '../src/layouts/index.js';
import { createRowHasher } from '../src/load/index.js';
import { mirrorFor } from '../src/schema/index.js';
import { createPostgresStore, isTransientPostgresError } from '../src/store/postgres/index.js';
import type { RunFileRecord, RunOutcome, RunSession, Store } from '../src/store/types.js';
import { closePgStore, newRun, openPgStore, type PgSchema } from './helpers/postgres.js';

/**
 * The PostgreSQL adapter's ledger, run lock and transactions, against the machine's PostgreSQL
 * (its migrations: store-postgres-migrate.test.ts). Separate processes are stood in for by
 * separate stores (separate pools).
 */

let target: PgSchema;
let store: Store;
let probe: pg.Client;

beforeAll(async () => ({ target, store, probe } = await openPgStore()));
afterAll(() => closePgStore({ target, store, probe }));

const outcome = (extra: Partial<RunOutcome> = {}): RunOutcome => ({
  status: 'succeeded',
  finishedAt: new Date('2025-03-01T02:00:12.345Z'),
  files: 1,
  records: 3,
  rows: 2,
  rejected: 1,
  errorRate: 1 / 3,
  inserted: 2,
  updated: 0,
  deactivated: 0,
  reactivated: 0,
  unchanged: 0,
  held: 0,
  deferred: 0,
  filesetSha256: 'f'.repeat(64),
  overrides: ['force'],
  reason: null,
  errorCode: null,
  ...extra,
});

const fileRecord = (extra: Partial<RunFileRecord> = {}): RunFileRecord => ({
  fileName: 'ST_8865.csv',
  table: 'ST',
  tableId: 'ST_8865',
  mode: 'full',
  sha256: 'a'.repeat(64),
  bytes: 3_000_000_000,
  records: 3,
  rows: 2,
  rejected: 1,
  inserted: 2,
  updated: 0,
  deactivated: 0,
  reactivated: 0,
  unchanged: 0,
  held: 1,
  deferred: 0,
  error: null,
  readAs: 'b'.repeat(64),
  unchangedSince: null,
  ...extra,
});

const reject = (line: number): Reject => ({
  file: 'ST_8865.csv',
  line,
  key: null,
  field: 'SURNAME',
  code: 'ETL_ROW_REQUIRED',
  message: 'SURNAME is required but empty',
  raw: `ABC${line},,"tab\there"`,
  rawBytes: 16 + String(line).length,
});

/** Resolves after `ms`, for letting a competing session reach its lock. */
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('ledger', () => {
  it('records a run, its files and rejects, and reads it back', async () => {
    const school = '3001';
    const runId = await store.withRunSession(school, 5000, async (session) => {
      const id = await session.startRun(newRun(school));
      expect((await store.getRun(id))?.status).toBe('running');
      await session.transaction((tx) =>
        tx.recordRun(
          id,
          outcome(),
          [fileRecord(), fileRecord({ fileName: 'SF_8865.csv', table: 'SF', tableId: 'SF_8865' })],
          Array.from({ length: 7000 }, (_, i) => reject(i + 2)),
        ),
      );
      await session.setArchivePath(id, '/srv/archive/2025-03-01');
      return id;
    });
    const record = await store.getRun(runId);
    expect(record).toMatchObject({
      id: runId,
      school,
      status: 'succeeded',
      trigger: 'schedule',
      jobId: 'job-1',
      dryRun: false,
      startedAt: '2025-03-01T02:00:00.000Z',
      finishedAt: '2025-03-01T02:00:12.345Z',
      durationMs: 12345,
      rows: 2,
      errorRate: 1 / 3,
      overrides: ['force'],
      archivePath: '/srv/archive/2025-03-01',
    });
    const files = await probe.query(`SELECT file_name, bytes FROM etl_run_files WHERE run_id = $1 ORDER BY file_name`, [
      runId,
    ]);
    expect(files.rows).toEqual([
      { file_name: 'SF_8865.csv', bytes: '3000000000' },
      { file_name: 'ST_8865.csv', bytes: '3000000000' },
    ]);
    const rejects = await probe.query(
      `SELECT count(*)::int AS n, max(line) AS last, min(original_line) FILTER (WHERE line = 2) AS raw,
       min(original_bytes) FILTER (WHERE line = 2)::int AS bytes FROM etl_rejects WHERE run_id = $1`,
      [runId],
    );
    expect(rejects.rows[0]).toEqual({ n: 7000, last: 7001, raw: 'ABC2,,"tab\there"', bytes: 17 });
    expect((await store.listRuns({ school, limit: 10 })).map((r) => r.id)).toEqual([runId]);
    expect((await store.listRuns({ school: null, limit: 1 })).length).toBe(1);
    expect(await store.getRun(999_999)).toBeNull();
  });

  it('finds published file sets and the last full load of each table', async () => {
    const school = '3002';
    await store.withRunSession(school, 5000, async (session) => {
      await session.transaction(async (tx) => expect(await tx.latestPublishedFileset(school)).toBeNull());
      const first = await session.startRun(newRun(school));
      await session.transaction((tx) =>
        tx.recordRun(first, outcome({ filesetSha256: 'set-1' }), [fileRecord({ rows: 100 })], []),
      );
      const dry = await session.startRun(newRun(school, { dryRun: true }));
      await session.transaction((tx) =>
        tx.recordRun(dry, outcome({ filesetSha256: 'set-2' }), [fileRecord({ rows: 5 })], []),
      );
      const second = await session.startRun(newRun(school));
      await session.transaction((tx) =>
        tx.recordRun(
          second,
          outcome({ filesetSha256: 'set-3', status: 'warning' }),
          [fileRecord({ rows: 90 }), fileRecord({ fileName: 'ST_8865_D.csv', mode: 'delta', rows: 3 })],
          [],
        ),
      );
      await session.recordFailure(
        await session.startRun(newRun(school)),
        outcome({ status: 'failed', filesetSha256: 'set-4', reason: 'guard' }),
        [fileRecord({ rows: 1 })],
        [reject(2)],
      );

      await session.transaction(async (tx) => {
        // The latest set that published: not the dry run's, not the failed run's, not set-1 any more.
        expect(await tx.latestPublishedFileset(school)).toEqual({
          runId: second,
          filesetSha256: 'set-3',
          rollbackId: null,
        });
        expect(await tx.latestPublishedFileset('other')).toBeNull();
        // A table never loaded in full (SF), asked for twice, or of another school has no entry.
        expect(await tx.lastPublishedRows(school, ['ST', 'SF', 'ST'])).toEqual(new Map([['ST', 90]]));
        expect(await tx.lastPublishedRows('other', ['ST'])).toEqual(new Map());
        expect(await tx.lastPublishedRows(school, [])).toEqual(new Map());
      });
    });
  });

  it('fails the runs an ended process left running', async () => {
    const school = '3003';
    await store.withRunSession(school, 5000, async (session) => {
      const dead = await session.startRun(newRun(school, { pid: 999_999_999, host: 'elsewhere' }));
      const current = await session.startRun(newRun(school));
      const otherSchool = await store.withRunSession('3004', 5000, (s) => s.startRun(newRun('3004')));
      expect(await session.transaction((tx) => tx.failInterruptedRuns(school, current))).toBe(1);
      expect(await store.getRun(dead)).toMatchObject({ status: 'failed', errorCode: 'ETL_RUN_INTERRUPTED' });
      expect((await store.getRun(dead))?.reason).toMatch(/^interrupted/);
      expect((await store.getRun(current))?.status).toBe('running');
      expect((await store.getRun(otherSchool))?.status).toBe('running');
    });
  });
});

describe('run lock', () => {
  it('makes a second run of the same school wait, times it out, and lets another school through', async () => {
    const other = createPostgresStore(target.url, target.schema);
    try {
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let entered!: () => void;
      const inside = new Promise<void>((r) => (entered = r));
      const first = store.withRunSession('4001', 1000, async () => {
        entered();
        await held;
        return Date.now();
      });
      await inside;

      const timedOut = await other.withRunSession('4001', 300, async () => 'ran').catch((err: unknown) => err);
      expect(isEtlError(timedOut, 'ETL_RUN_LOCKED')).toBe(true);

      expect(await other.withRunSession('4002', 300, async () => 'ran')).toBe('ran');

      const waiter = other.withRunSession('4001', 10_000, async () => Date.now());
      await pause(400);
      release();
      const [releasedAt, enteredAt] = await Promise.all([first, waiter]);
      expect(enteredAt).toBeGreaterThanOrEqual(releasedAt);
    } finally {
      await other.close();
    }
  });

  it('is released by PostgreSQL when the holding connection dies', async () => {
    const other = createPostgresStore(target.url, target.schema);
    try {
      const dying = store
        .withRunSession('4003', 1000, async (session: RunSession) => {
          const id = await session.startRun(newRun('4003'));
          // Stand in for kill -9: the server ends the backend holding the lock.
          await probe.query(
            `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = hashtext('4003')::oid`,
          );
          await session.setArchivePath(id, '/never');
        })
        .catch((err: unknown) => err);
      const err = await dying;
      expect(isTransientPostgresError(err)).toBe(true);
      expect(await other.withRunSession('4003', 2000, async () => 'ran')).toBe('ran');
    } finally {
      await other.close();
    }
  });
});

describe('two schools at once', () => {
  it("both create and load a table neither had, one waiting for the other's DDL", async () => {
    const other = createPostgresStore(target.url, target.schema);
    try {
      const mirror = mirrorFor(loadBuiltinLayouts().get('KGH')!, []);
      const columns = ['kghkey', 'description'];
      const hasher = createRowHasher(columns);
      const load = (s: Store, school: string, holdMs: number) =>
        s.withRunSession(school, 5000, async (session) => {
          const runId = await session.startRun(newRun(school));
          return session.transaction(async (tx) => {
            await tx.ensureMirror(mirror);
            await pause(holdMs);
            async function* batches() {
              yield [
                {
                  key: 'RED',
                  values: ['RED', `Red ${school}`],
                  hash: hasher.hash(['RED', `Red ${school}`]),
                  line: null,
                },
              ];
            }
            return tx.mergeFile({ runId, school, mirror, mode: 'full', columns }, batches());
          });
        });
      const [a, b] = await Promise.all([load(store, '6001', 300), pause(50).then(() => load(other, '6002', 0))]);
      expect([a.inserted, b.inserted]).toEqual([1, 1]);
      const loaded = await probe.query(`SELECT school_id, description FROM cases_kgh ORDER BY school_id`);
      expect(loaded.rows).toEqual([
        { school_id: '6001', description: 'Red 6001' },
        { school_id: '6002', description: 'Red 6002' },
      ]);
    } finally {
      await other.close();
    }
  });
});

describe('transactions', () => {
  const mirror = mirrorFor(loadBuiltinLayouts().get('KGC')!, []);
  const columns = ['kgckey', 'description'];
  const hasher = createRowHasher(columns);
  const rows = [{ key: '7A', values: ['7A', 'Seven A'], hash: hasher.hash(['7A', 'Seven A']), line: null }];
  async function* batches() {
    yield rows;
  }

  it('leaves nothing behind when the work throws: no table, no rows, no changes', async () => {
    const school = '5001';
    // A table of its own, so that no other test can have created it.
    const lonely = { ...mirror, table: 'KGC_LONELY', name: 'cases_kgc_lonely' };
    let runId = 0;
    const err = await store
      .withRunSession(school, 5000, async (session) => {
        runId = await session.startRun(newRun(school));
        await session.transaction(async (tx) => {
          await tx.ensureMirror(lonely);
          await tx.mergeFile({ runId, school, mirror: lonely, mode: 'full', columns }, batches());
          throw new Error('guard rail tripped');
        });
      })
      .catch((e: unknown) => e);
    expect((err as Error).message).toBe('guard rail tripped');
    expect((await probe.query(`SELECT to_regclass('cases_kgc_lonely') AS t`)).rows[0]?.t).toBeNull();
    expect(
      (await probe.query(`SELECT count(*)::int AS n FROM etl_changes WHERE run_id = $1`, [runId])).rows[0]?.n,
    ).toBe(0);
    // startRun committed on its own, so the run stays visible for the failure record.
    expect((await store.getRun(runId))?.status).toBe('running');
  });

  it('abandons a COPY whose rows fail mid-file and keeps the session usable', async () => {
    const school = '5003';
    async function* failing() {
      yield rows;
      throw new Error('disk read failed');
    }
    const result = await store.withRunSession(school, 5000, async (session) => {
      const runId = await session.startRun(newRun(school));
      const err = await session
        .transaction(async (tx) => {
          await tx.ensureMirror(mirror);
          return tx.mergeFile({ runId, school, mirror, mode: 'full', columns }, failing());
        })
        .catch((e: unknown) => e);
      expect((err as Error).message).toBe('disk read failed');
      return session.transaction(async (tx) => {
        await tx.ensureMirror(mirror);
        return tx.mergeFile({ runId, school, mirror, mode: 'full', columns }, batches());
      });
    });
    expect(result).toMatchObject({ inserted: 1 });
  });

  it('rolls the data back to the savepoint and keeps the ledger written after it', async () => {
    const school = '5002';
    const runId = await store.withRunSession(school, 5000, async (session) => {
      const id = await session.startRun(newRun(school, { dryRun: true }));
      await session.transaction(async (tx) => {
        await tx.ensureMirror(mirror);
        await tx.savepoint();
        expect(await tx.mergeFile({ runId: id, school, mirror, mode: 'full', columns }, batches())).toMatchObject({
          inserted: 1,
        });
        await tx.rollbackToSavepoint();
        await tx.recordRun(id, outcome({ inserted: 1 }), [], []);
      });
      return id;
    });
    expect(
      (await probe.query(`SELECT count(*)::int AS n FROM cases_kgc WHERE school_id = $1`, [school])).rows[0]?.n,
    ).toBe(0);
    expect(
      (await probe.query(`SELECT count(*)::int AS n FROM etl_changes WHERE run_id = $1`, [runId])).rows[0]?.n,
    ).toBe(0);
    expect(await store.getRun(runId)).toMatchObject({ status: 'succeeded', dryRun: true, inserted: 1 });
  });
});

describe('isTransientPostgresError', () => {
  it('retries what may pass and not what will fail again', async () => {
    const refused = await new pg.Client({ host: '127.0.0.1', port: 1, user: 'postgres', database: 'test' })
      .connect()
      .catch((e: unknown) => e);
    expect(isTransientPostgresError(refused)).toBe(true);
    const syntax = await probe.query('SELEC 1').catch((e: unknown) => e);
    expect(isTransientPostgresError(syntax)).toBe(false);
    const missing = await probe.query('SELECT * FROM no_such_table').catch((e: unknown) => e);
    expect(isTransientPostgresError(missing)).toBe(false);

    for (const code of [
      '08006',
      '08001',
      '40001',
      '40P01',
      '53100',
      '53200',
      '57P01',
      '57P02',
      '57P03',
      '55P03',
      'ECONNRESET',
      'ETIMEDOUT',
      'EPIPE',
      'ENOTFOUND',
      'EAI_AGAIN',
    ]) {
      expect(isTransientPostgresError(Object.assign(new Error(code), { code })), code).toBe(true);
    }
    for (const code of ['23505', '42P01', '22021', '57014', 'ENOENT']) {
      expect(isTransientPostgresError(Object.assign(new Error(code), { code })), code).toBe(false);
    }
    expect(
      isTransientPostgresError(new Error('wrapped', { cause: Object.assign(new Error('x'), { code: '40P01' }) })),
    ).toBe(true);
    expect(isTransientPostgresError(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isTransientPostgresError(new Error('Client has encountered a connection error and is not queryable'))).toBe(
      true,
    );
    expect(isTransientPostgresError('40P01')).toBe(false);
    expect(isTransientPostgresError(null)).toBe(false);
  });
});
