import { hostname } from 'node:os';

import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadBuiltinLayouts } from '../src/layouts/index.js';
import { mirrorFor, type MirrorTable } from '../src/schema/index.js';
import { createPostgresStore } from '../src/store/postgres/index.js';
import { LEDGER, MIGRATIONS } from '../src/store/postgres/ledger.js';
import type {
  LoadTransaction,
  MergeCounts,
  MergeInput,
  RunOutcome,
  RunStatus,
  Store,
  UndoCounts,
} from '../src/store/types.js';
import type { Value } from '../src/validate/index.js';
import {
  batchesOf,
  closePgStore,
  connectProbe,
  createPgSchema,
  emptyOutcome,
  openPgStore,
  stagedRows as stage,
  type PgSchema,
} from './helpers/postgres.js';

/**
 * The PostgreSQL adapter's rollback: the second migration, pruning the change history, and
 * undoing runs exactly (every column, bookkeeping included), against the machine's PostgreSQL.
 * One fresh schema for the file, a school id per test.
 */

let target: PgSchema;
let store: Store;
let probe: pg.Client;

beforeAll(async () => ({ target, store, probe } = await openPgStore()));
afterAll(() => closePgStore({ target, store, probe }));

const layouts = loadBuiltinLayouts();
const stMirror = mirrorFor(layouts.get('ST')!, []);
const sfMirror = mirrorFor(layouts.get('SF')!, []);

interface FileLoad {
  readonly mirror: MirrorTable;
  readonly mode: MergeInput['mode'];
  readonly columns: readonly string[];
  readonly records: ReadonlyArray<readonly Value[]>;
}

const outcome = (status: RunOutcome['status']): RunOutcome => emptyOutcome({ status, files: 1 });

/**
 * One night of `school`: its files merged in order in one transaction, then the run recorded with
 * `status`. A dry or failed run keeps none of its data, as in the pipeline (back to the savepoint).
 */
async function night(
  school: string,
  files: readonly FileLoad[],
  options: { status?: RunOutcome['status']; dryRun?: boolean } = {},
) {
  return store.withRunSession(school, 10_000, async (session) => {
    const runId = await session.startRun({
      school,
      trigger: 'cli',
      jobId: null,
      dryRun: options.dryRun ?? false,
      sourceDir: '/srv/cases',
      host: hostname(),
      pid: process.pid,
      startedAt: new Date(),
    });
    const counts = await session.transaction(async (tx) => {
      const out: MergeCounts[] = [];
      const publishes = !options.dryRun && options.status !== 'failed';
      await tx.savepoint();
      for (const f of files) {
        await tx.ensureMirror(f.mirror);
        out.push(
          await tx.mergeFile(
            { runId, school, mirror: f.mirror, mode: f.mode, columns: f.columns },
            batchesOf(stage(f.mirror, f.columns, f.records)),
          ),
        );
      }
      if (!publishes) await tx.rollbackToSavepoint();
      await tx.recordRun(runId, outcome(options.status ?? 'succeeded'), [], []);
      return out;
    });
    return { runId, counts };
  });
}

/** Work in one transaction of `school`'s run session, without a run of its own (as a rollback does). */
function inTx<T>(school: string, fn: (tx: LoadTransaction) => Promise<T>): Promise<T> {
  return store.withRunSession(school, 10_000, (session) => session.transaction(fn));
}

async function rows(sql: string, params: unknown[] = []): Promise<Array<Record<string, unknown>>> {
  return (await probe.query(sql, params)).rows;
}

/** Every column of the school's rows of a mirror, inactive rows included, in key order. */
const snapshot = (table: string, school: string, order: string): Promise<Array<Record<string, unknown>>> =>
  rows(`SELECT * FROM ${table} WHERE school_id = $1 ORDER BY ${order}`, [school]);

const undoCounts = (table: string, deleted: number, restored: number): UndoCounts => ({ table, deleted, restored });

describe('migration 002_rollback', () => {
  it('upgrades a version-1 ledger in place, keeping its runs', async () => {
    const fresh = await createPgSchema();
    const old = await connectProbe(fresh);
    const s = createPostgresStore(fresh.url, fresh.schema);
    try {
      // A database as the first release left it: migration 1 only, with a run in it.
      await old.query(LEDGER.createMigrations);
      await old.query(MIGRATIONS[0]!.sql);
      await old.query(LEDGER.recordMigration, [1, MIGRATIONS[0]!.name]);
      await old.query(
        `INSERT INTO etl_runs (school_id, status, trigger, started_at) VALUES ('8865', 'succeeded', 'cli', now())`,
      );

      expect(await s.migrate()).toEqual([
        '002_rollback',
        '003_changes_unchecked_run',
        '004_json_images',
        '005_changes_keyed_by_run',
        '006_changes_id_cache',
        '007_held_deferred',
        '008_original_line',
        '009_repeated_loads',
        '010_history',
        '011_finished_as',
        '012_history_packed',
      ]);
      expect(await s.migrate()).toEqual([]);
      const [run] = await s.listRuns({ school: '8865', limit: 5 });
      expect(run).toMatchObject({ school: '8865', status: 'succeeded', rollbackId: null, changesPruned: false });

      const { rows: cols } = await old.query(
        `SELECT table_name || '.' || column_name AS col, data_type, is_nullable, column_default FROM information_schema.columns WHERE table_schema = $1 AND table_name IN ('etl_runs', 'etl_rollbacks')`,
        [fresh.schema],
      );
      const byName = Object.fromEntries(cols.map((c) => [c.col, c]));
      expect(byName['etl_runs.rollback_id']).toMatchObject({ data_type: 'bigint', is_nullable: 'YES' });
      expect(byName['etl_runs.changes_pruned']).toMatchObject({
        data_type: 'boolean',
        is_nullable: 'NO',
        column_default: 'false',
      });
      expect(byName['etl_runs.held']).toMatchObject({ data_type: 'integer', is_nullable: 'NO', column_default: '0' });
      expect(byName['etl_runs.deferred']).toMatchObject({
        data_type: 'integer',
        is_nullable: 'NO',
        column_default: '0',
      });
      expect(
        Object.fromEntries(
          cols
            .filter((c) => c.col.startsWith('etl_rollbacks.'))
            .map((c) => [c.col.slice('etl_rollbacks.'.length), c.data_type]),
        ),
      ).toEqual({
        id: 'bigint',
        school_id: 'text',
        target_run_id: 'bigint',
        run_ids: 'jsonb',
        requested_by: 'text',
        reason: 'text',
        started_at: 'timestamp with time zone',
        finished_at: 'timestamp with time zone',
        rows_deleted: 'integer',
        rows_restored: 'integer',
        detail: 'jsonb',
      });
      const { rows: idx } = await old.query(
        `SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = 'etl_rollbacks_school'`,
        [fresh.schema],
      );
      expect(idx[0]?.indexdef).toMatch(/\(school_id, id\)$/);
      expect(await s.listRollbacks({ school: null, limit: 10 })).toEqual([]);
    } finally {
      await old.end();
      await s.close();
      await fresh.drop();
    }
  });
});

describe('undoRun', () => {
  const columns = [
    'stkey',
    'surname',
    'first_name',
    'home_group',
    'birthdate',
    'dist_schl',
    'registration',
    'ema_amt1p',
    'fam_order',
    'student_pic',
  ];
  const ann = ['ANN0001', 'Ng', 'Ann', '07A', '2011-03-04 00:00:00', 1.5, 12, '12.50', 1, null];
  const bob = ['BOB0001', 'Bell', 'Bob', '07A', '2011-05-06 00:00:00', 2.25, 13, null, 2, null];
  const cat = ['CAT0001', 'Cole', 'Cat', '08B', '2010-07-08 08:30:00', null, 14, '0.05', null, null];
  const eve = ['EVE0001', 'Eng', 'Eve', '08B', '2010-01-31 00:00:00', 0.1, 16, '100', 3, null];
  const dan = ['DAN0001', 'Dow', 'Dan', '09C', '2009-09-10 00:00:00', 0.5, 15, null, null, null];
  const fay = ['FAY0001', 'Fox', 'Fay', '07A', '2011-11-11 00:00:00', 3, 17, null, null, null];
  const gus = ['GUS0001', 'Gray', 'Gus', '09C', '2009-02-28 00:00:00', null, 18, null, null, null];
  const withValues = (row: readonly Value[], changes: Record<number, Value>): Value[] =>
    row.map((v, i) => (i in changes ? (changes[i] as Value) : v));

  const sfColumns = ['sfkey', 'surname', 'first_name'];
  const st = (mode: MergeInput['mode'], records: ReadonlyArray<readonly Value[]>): FileLoad => ({
    mirror: stMirror,
    mode,
    columns,
    records,
  });
  const sf = (records: ReadonlyArray<readonly Value[]>): FileLoad => ({
    mirror: sfMirror,
    mode: 'full',
    columns: sfColumns,
    records,
  });

  const nights = [
    [
      st('full', [ann, bob, cat, eve]),
      sf([
        ['ABC', 'Abbot', 'Al'],
        ['XYZ', 'Xu', 'Xi'],
      ]),
    ],
    // Ann and Eve change, Bob goes, Dan arrives; one staff member changes.
    [
      st('full', [withValues(ann, { 1: 'Ng-Park' }), cat, dan, withValues(eve, { 5: 0.2, 7: '99.99' })]),
      sf([
        ['ABC', 'Abbot', 'Alan'],
        ['XYZ', 'Xu', 'Xi'],
      ]),
    ],
    // A full file, then a delta of the same table in the same run: Ann changes twice, Fay is
    // inserted then updated, Eve goes in the full file and comes back in the delta, Gus arrives in
    // the delta. Bob comes back, Cat goes. Staff: Xi goes.
    [
      st('full', [withValues(ann, { 1: 'Park', 3: '08A' }), withValues(bob, { 3: '08A' }), dan, fay]),
      st('delta', [withValues(ann, { 1: 'Park-Ng', 8: 4 }), withValues(fay, { 2: 'Faye' }), eve, gus]),
      sf([['ABC', 'Abbot', 'Alan']]),
    ],
  ] as const;

  it('restores exactly the state before each run, newest first, down to an empty table', async () => {
    const school = '3001';
    const state = async () => ({
      st: await snapshot('cases_st', school, 'stkey'),
      sf: await snapshot('cases_sf', school, 'sfkey'),
    });
    const runs: number[] = [];
    // Before the first night the school has no rows (the tables do not exist yet).
    const states = [{ st: [], sf: [] } as Awaited<ReturnType<typeof state>>];
    for (const files of nights) {
      runs.push((await night(school, files)).runId);
      states.push(await state());
    }
    expect(states[3]!.st.map((r) => [r.stkey, r._active])).toEqual([
      ['ANN0001', true],
      ['BOB0001', true],
      ['CAT0001', false],
      ['DAN0001', true],
      ['EVE0001', true],
      ['FAY0001', true],
      ['GUS0001', true],
    ]);

    const expected = [
      [undoCounts('SF', 2, 0), undoCounts('ST', 4, 0)],
      [undoCounts('SF', 0, 1), undoCounts('ST', 1, 3)],
      [undoCounts('SF', 0, 1), undoCounts('ST', 2, 4)],
    ];
    for (let i = runs.length - 1; i >= 0; i--) {
      const runId = runs[i]!;
      const planned = await inTx(school, (tx) => tx.planUndo(runId));
      expect(planned).toEqual(expected[i]);
      // Planning changes nothing.
      expect(await state()).toEqual(states[i + 1]);
      expect(await inTx(school, (tx) => tx.undoRun(runId))).toEqual(planned);
      expect(await state()).toEqual(states[i]);
    }
  });

  it('leaves the mirror fit for the next load: reloading an undone night makes the same changes again', async () => {
    const school = '3002';
    await night(school, nights[0]);
    await night(school, nights[1]);
    const third = await night(school, nights[2]);
    await inTx(school, (tx) => tx.undoRun(third.runId));
    const again = await night(school, nights[2]);
    expect(again.counts).toEqual(third.counts);
    // The same changes; in which order one statement logs a file's rows is the planner's affair.
    const changes = async (runId: number): Promise<string[]> =>
      (
        await rows(
          `SELECT table_name, op, row_key FROM etl_changes WHERE run_id = $1 ORDER BY table_name, row_key, op`,
          [runId],
        )
      ).map((r) => `${r.table_name} ${r.op} ${r.row_key}`);
    expect(await changes(again.runId)).toEqual(await changes(third.runId));
    expect(await changes(third.runId)).not.toEqual([]);
  });

  it('leaves every other school alone', async () => {
    const mine = '3003';
    const other = '3004';
    await night(mine, nights[0]);
    await night(other, nights[0]);
    const second = await night(mine, nights[1]);
    await night(other, nights[1]);
    const others = await snapshot('cases_st', other, 'stkey');
    await inTx(mine, (tx) => tx.undoRun(second.runId));
    expect(await snapshot('cases_st', other, 'stkey')).toEqual(others);
  });

  it('matches composite int, date and timestamp keys, and nulls a column the table gained after the image', async () => {
    const school = '3005';
    const narrow: MirrorTable = {
      table: 'ZZR',
      name: 'cases_zzr',
      key: ['id', 'day', 'slot'],
      columns: [
        { name: 'id', source: 'ID', type: 'int' },
        { name: 'day', source: 'DAY', type: 'date' },
        { name: 'slot', source: 'SLOT', type: 'datetime' },
        { name: 'note', source: 'NOTE', type: 'string' },
      ],
    };
    const wide: MirrorTable = {
      ...narrow,
      columns: [...narrow.columns, { name: 'extra', source: 'EXTRA', type: 'string' }],
    };
    const order = 'id, day, slot';
    await night(school, [
      {
        mirror: narrow,
        mode: 'full',
        columns: ['id', 'day', 'slot', 'note'],
        records: [
          [7, '2024-02-01', '2024-02-01 08:30:00', 'a'],
          [12, '2024-02-29', '2024-02-29 00:00:00', 'b'],
          [3, '2023-12-31', '2023-12-31 23:59:59', 'c'],
          [7, '2024-02-01', '2024-02-01 13:45:00', 'e'],
        ],
      },
    ]);
    const before = await snapshot('cases_zzr', school, order);
    const second = await night(school, [
      {
        mirror: wide,
        mode: 'full',
        columns: ['id', 'day', 'slot', 'note', 'extra'],
        records: [
          [7, '2024-02-01', '2024-02-01 08:30:00', 'a2', 'x'],
          [3, '2023-12-31', '2023-12-31 23:59:59', 'c', 'y'],
          [7, '2024-03-01', '2024-02-01 08:30:00', 'd', 'z'],
          [7, '2024-02-01', '2024-02-01 13:45:00', 'e', null],
        ],
      },
    ]);
    // The last row hashes as before (a trailing null does not count), so it is left as it was.
    expect(second.counts).toEqual([
      { inserted: 1, updated: 2, deactivated: 1, reactivated: 0, unchanged: 1, held: 0, deferred: 0 },
    ]);
    expect(await inTx(school, (tx) => tx.undoRun(second.runId))).toEqual([undoCounts('ZZR', 1, 3)]);
    expect(await snapshot('cases_zzr', school, order)).toEqual(before.map((r) => ({ ...r, extra: null })));
  });
});

describe('rollback ledger', () => {
  const columns = ['ksfkey'];
  const ksf = mirrorFor(layouts.get('KSF')!, []);
  const load = (...keys: string[]): FileLoad[] => [
    { mirror: ksf, mode: 'full', columns, records: keys.map((k) => [k]) },
  ];

  it('finds the published runs after a run, records a rollback and marks its runs rolled back', async () => {
    const school = '4001';
    const first = await night(school, load('ENG'));
    const dry = await night(school, load('ENG', 'MAT'), { dryRun: true });
    const failed = await night(school, load('ENG', 'SCI'), { status: 'failed' });
    const second = await night(school, load('ENG', 'ART'), { status: 'warning' });
    const third = await night(school, load('ENG', 'ART', 'GEO'));
    await night('4002', load('ENG', 'ART', 'GEO', 'HIS'));
    void dry;
    void failed;

    const after = await inTx(school, (tx) => tx.publishedRunsAfter(school, first.runId));
    expect(after.map((r) => [r.id, r.status])).toEqual([
      [third.runId, 'succeeded'],
      [second.runId, 'warning'],
    ]);

    const startedAt = new Date('2025-03-02T09:00:00Z');
    const rollbackId = await inTx(school, async (tx) => {
      const detail = [];
      for (const r of after) detail.push({ runId: r.id, tables: await tx.undoRun(r.id) });
      expect(detail).toEqual([
        { runId: third.runId, tables: [undoCounts('KSF', 1, 0)] },
        { runId: second.runId, tables: [undoCounts('KSF', 1, 0)] },
      ]);
      return tx.recordRollback({
        school,
        targetRunId: second.runId,
        runIds: after.map((r) => r.id),
        requestedBy: 'cli:test@host',
        reason: 'bad export',
        startedAt,
        finishedAt: new Date('2025-03-02T09:00:01.5Z'),
        rowsDeleted: 2,
        rowsRestored: 0,
        detail,
      });
    });
    expect(rollbackId).toBeGreaterThan(0);
    expect(
      (await rows(`SELECT ksfkey FROM cases_ksf WHERE school_id = $1 ORDER BY ksfkey`, [school])).map((r) => r.ksfkey),
    ).toEqual(['ENG']);

    for (const id of [second.runId, third.runId])
      expect(await store.getRun(id)).toMatchObject({ status: 'rolled_back' satisfies RunStatus, rollbackId });
    expect(await store.getRun(first.runId)).toMatchObject({ status: 'succeeded', rollbackId: null });
    expect(await inTx(school, (tx) => tx.publishedRunsAfter(school, first.runId))).toEqual([]);
    expect(await inTx(school, (tx) => tx.getRun(third.runId))).toEqual(await store.getRun(third.runId));
    expect(await inTx(school, (tx) => tx.getRun(999_999))).toBeNull();

    const listed = await store.listRollbacks({ school, limit: 10 });
    expect(listed).toEqual([
      {
        id: rollbackId,
        school,
        targetRunId: second.runId,
        runIds: [third.runId, second.runId],
        requestedBy: 'cli:test@host',
        reason: 'bad export',
        startedAt: startedAt.toISOString(),
        finishedAt: '2025-03-02T09:00:01.500Z',
        rowsDeleted: 2,
        rowsRestored: 0,
        detail: [
          { runId: third.runId, tables: [undoCounts('KSF', 1, 0)] },
          { runId: second.runId, tables: [undoCounts('KSF', 1, 0)] },
        ],
      },
    ]);
    expect(await store.listRollbacks({ school: '4002', limit: 10 })).toEqual([]);
    expect((await store.listRollbacks({ school: null, limit: 10 })).map((r) => r.id)).toContain(rollbackId);
  });
});

describe('pruneChanges', () => {
  /** Compact history of any age is kept: what it keeps is test/history.test.ts's subject. */
  const EVER = new Date(0);
  const ksf = mirrorFor(layouts.get('KSF')!, []);
  const load = (n: number): FileLoad[] => [{ mirror: ksf, mode: 'full', columns: ['ksfkey'], records: [[`K${n}`]] }];
  const changed = async (): Promise<number[]> =>
    (await rows(`SELECT DISTINCT run_id FROM etl_changes ORDER BY run_id`)).map((r) => Number(r.run_id));

  it("keeps the history of exactly the school's newest published runs, in one pass", async () => {
    const school = '5001';
    const other = await night('5002', load(0));
    const ids: Record<string, number> = {};
    // Oldest first: published, rolled back, failed, dry, published (warning), published, published.
    ids.p1 = (await night(school, load(1))).runId;
    ids.rolled = (await night(school, load(2))).runId;
    await inTx(school, async (tx) => {
      await tx.undoRun(ids.rolled!);
      await tx.recordRollback({
        school,
        targetRunId: ids.rolled!,
        runIds: [ids.rolled!],
        requestedBy: 'test',
        reason: null,
        startedAt: new Date(),
        finishedAt: new Date(),
        rowsDeleted: 1,
        rowsRestored: 1,
        detail: [],
      });
    });
    ids.failed = (await night(school, load(3), { status: 'failed' })).runId;
    ids.dry = (await night(school, load(4), { dryRun: true })).runId;
    ids.p2 = (await night(school, load(5), { status: 'warning' })).runId;
    ids.p3 = (await night(school, load(6))).runId;
    ids.p4 = (await night(school, load(7))).runId;
    const all = await changed();
    expect(all).toEqual(expect.arrayContaining([ids.p1, ids.rolled, ids.p2, ids.p3, ids.p4, other.runId]));
    expect(all).not.toContain(ids.dry);

    // Keep 2: the newest two published runs are p4 and p3. Every earlier run that may hold history
    // (succeeded, warning or rolled back; a dry run too, as on SQLite) is pruned; a failed one is not.
    const pruned = await inTx(school, (tx) => tx.pruneChanges(school, 2, EVER));
    expect(pruned).toEqual([ids.p1, ids.rolled, ids.dry, ids.p2]);
    expect(await changed()).toEqual(all.filter((id) => !pruned.includes(id)));
    expect(await changed()).toEqual(expect.arrayContaining([ids.p3, ids.p4, other.runId]));
    const flags = await rows(`SELECT id, changes_pruned FROM etl_runs WHERE school_id = $1 ORDER BY id`, [school]);
    expect(flags.map((r) => [Number(r.id), r.changes_pruned])).toEqual([
      [ids.p1, true],
      [ids.rolled, true],
      [ids.failed, false],
      [ids.dry, true],
      [ids.p2, true],
      [ids.p3, false],
      [ids.p4, false],
    ]);
    expect(await store.getRun(ids.p2!)).toMatchObject({ changesPruned: true, status: 'warning' });

    // Nothing more to do, and a window wider than the history prunes nothing.
    expect(await inTx(school, (tx) => tx.pruneChanges(school, 2, EVER))).toEqual([]);
    expect(await inTx(school, (tx) => tx.pruneChanges(school, 30, EVER))).toEqual([]);
    expect(await inTx('5003', (tx) => tx.pruneChanges('5003', 1, EVER))).toEqual([]);

    // Keep 1: only p4 keeps its history.
    expect(await inTx(school, (tx) => tx.pruneChanges(school, 1, EVER))).toEqual([ids.p3]);
    expect(await changed()).toEqual(expect.arrayContaining([ids.p4, other.runId]));
    expect(await changed()).not.toContain(ids.p3);
  });
});
