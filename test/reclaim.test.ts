import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { describe, expect, it } from 'vitest';

import { runEtl } from '../src/pipeline/index.js';
import { createStore } from '../src/store/index.js';
import { editCsv } from './helpers/nights.js';
import { useExportFolder } from './helpers/targets.js';

/**
 * A night that updates rows leaves dead row versions on PostgreSQL; with autovacuum off (as on
 * this machine) nothing made room for them again, and a year of nights grew the database by six
 * times the bytes that changed. After a night publishes, the tables it wrote that autovacuum's
 * own rule says are due are vacuumed (store/postgres/vacuum.ts).
 */
describe('room made again after a night on postgres', () => {
  const folder = useExportFolder('postgres');
  const run = () => runEtl({ config: folder.target.config({ CASES_DIRECTORY: folder.src }), notifier: null });
  const schema = () => folder.target.env.DATABASE_SCHEMA as string;
  const stats = async (table: string) =>
    (
      await folder.query(
        `SELECT n_live_tup AS live, n_dead_tup AS dead, vacuum_count AS vacuums FROM pg_stat_user_tables WHERE schemaname = ? AND relname = ?`,
        [schema(), table],
      )
    ).map((r) => ({ live: Number(r.live), dead: Number(r.dead), vacuums: Number(r.vacuums) }))[0];
  /** Statistics reach pg_stat_user_tables a moment after a commit: waits for `ok`. */
  const until = async (table: string, ok: (s: { live: number; dead: number; vacuums: number }) => boolean) => {
    for (const deadline = Date.now() + 15_000; ; await sleep(100)) {
      const s = await stats(table);
      if (s && ok(s)) return s;
      if (Date.now() > deadline) throw new Error(`${table}: ${JSON.stringify(s)}`);
    }
  };

  it('vacuums the tables a published night left with many dead rows, and only those', async () => {
    expect((await run()).status).toBe('succeeded');
    // Every student's surname changes: each update leaves its old row version dead.
    await editCsv(join(folder.src, 'ST_8865.csv'), (rows, col) =>
      rows.map((r) => r.map((v, i) => (i === col('SURNAME') ? `${v}X`.slice(0, 30) : v))),
    );
    const changed = await run();
    expect(changed.status).toBe('succeeded');
    expect(changed.stats.updated).toBeGreaterThan(100);
    // The night's statistics, flushed as it commits, make cases_st due: vacuumed before the run returns.
    expect((await stats('cases_st'))?.vacuums).toBeGreaterThan(0);

    // A table the night left no dead rows in is not vacuumed: only those that are due. (cases_st is
    // left out here: a backend's statistics that land just after a VACUUM count its dead rows
    // again, a known inexactness of PostgreSQL's counters, worth at most one more vacuum.)
    const store = await createStore(folder.target.config().database, { lockTimeoutMs: 1000 });
    try {
      expect(await store.reclaim(['cases_su', 'etl_runs', 'cases_nothing_here'])).toEqual([]);
    } finally {
      await store.close();
    }
    expect((await stats('cases_su'))?.vacuums).toBe(0);
  });

  it("analyses the ledger's run tables when their statistics are out of date, and leaves mirror tables to vacuum", async () => {
    const counts = async (table: string) => {
      const r = (
        await folder.query(
          `SELECT analyze_count AS analysed, vacuum_count AS vacuumed FROM pg_stat_user_tables WHERE schemaname = ? AND relname = ?`,
          [schema(), table],
        )
      )[0];
      return { analysed: Number(r?.analysed), vacuumed: Number(r?.vacuumed) };
    };
    // Four nights of the sample's 16 files: 64 file rows, past autovacuum's 50 + 10% before it analyses.
    expect((await run()).status).toBe('succeeded');
    expect((await counts('etl_run_files')).analysed).toBe(0);
    for (let n = 0; n < 3; n++)
      expect(
        (await runEtl({ config: folder.target.config({ CASES_DIRECTORY: folder.src }), notifier: null, force: true }))
          .status,
      ).toBe('succeeded');
    expect((await counts('etl_run_files')).analysed).toBeGreaterThan(0);
    // 200 students inserted is past the rule too, but a mirror table is analysed only with a vacuum.
    expect(await counts('cases_st')).toEqual({ analysed: 0, vacuumed: 0 });
  });

  it('a night vacuums what the night before it left behind', async () => {
    expect((await run()).status).toBe('succeeded');
    await editCsv(join(folder.src, 'ST_8865.csv'), (rows, col) =>
      rows.map((r) => r.map((v, i) => (i === col('SURNAME') ? `${v}Y`.slice(0, 30) : v))),
    );
    expect((await run()).status).toBe('succeeded');
    await until('cases_st', (s) => s.vacuums > 0 || s.dead > 50 + 0.2 * s.live);
    // The next night changes one row; its own check finds the night before's dead rows.
    await editCsv(join(folder.src, 'ST_8865.csv'), (rows, col) =>
      rows.map((r, n) => r.map((v, i) => (n === 0 && i === col('SURNAME') ? `${v}Z`.slice(0, 30) : v))),
    );
    const next = await run();
    expect(next.status).toBe('succeeded');
    expect(next.errors).toEqual([]);
    const after = await until('cases_st', (s) => s.vacuums > 0);
    expect(after.dead).toBeLessThan(50);
  });
});
