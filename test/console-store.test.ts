import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createStore, type Store } from '../src/store/index.js';
import { FORMULA_KEY, seedLedgerNights, type SeededNight } from './helpers/ledger-nights.js';
import { createTarget, DIALECTS, type Target } from './helpers/targets.js';

describe.each(DIALECTS)("the console's store queries on %s", (dialect) => {
  let target: Target;
  let store: Store;
  let nights: SeededNight[];
  let other: SeededNight[];
  const last = new Date('2026-12-06T15:00:00Z');

  beforeAll(async () => {
    target = await createTarget(dialect);
    const config = target.config();
    store = await createStore(config.database, { lockTimeoutMs: 20_000 });
    await store.migrate();
    nights = await seedLedgerNights(store, { nights: 60, last });
    // Another school's nights, interleaved by id with none of 8865's: filters must keep them apart.
    other = await seedLedgerNights(store, { school: '1234', nights: 3, last, lastNightRejects: 5 });
  }, 120_000);

  afterAll(async () => {
    await store?.close();
    await target?.cleanup();
  });

  it('pages runs newest first, filtered by school and status, with the total the filter matches', async () => {
    const all = await store.pageRuns({ limit: 25, offset: 0 });
    expect(all.total).toBe(63);
    expect(all.items.map((r) => r.id)).toEqual(
      [...nights, ...other]
        .map((n) => n.runId)
        .reverse()
        .slice(0, 25),
    );

    const page3 = await store.pageRuns({ school: '8865', limit: 25, offset: 50 });
    expect(page3.total).toBe(60);
    expect(page3.items.map((r) => r.id)).toEqual(
      nights
        .slice(0, 10)
        .map((n) => n.runId)
        .reverse(),
    );

    const failed = await store.pageRuns({ school: '8865', status: 'failed', limit: 10, offset: 0 });
    expect(failed).toMatchObject({ total: 1, items: [{ id: nights[30]?.runId, status: 'failed' }] });
    const warnings = await store.pageRuns({ status: 'warning', limit: 100, offset: 0 });
    const warned = [...nights, ...other].filter((n) => n.outcome.status === 'warning');
    expect(warnings.total).toBe(warned.length);
    expect(warnings.items.map((r) => r.id).sort((a, b) => a - b)).toEqual(warned.map((n) => n.runId));
    expect(await store.pageRuns({ school: '9999', limit: 10, offset: 0 })).toEqual({ items: [], total: 0 });
  });

  it("pages a run's rejects past the first 100, in file and line order, never with the original line", async () => {
    const night = nights.at(-1) as SeededNight;
    expect(night.rejects).toHaveLength(289);
    const seen: unknown[] = [];
    for (let offset = 0; offset < 300; offset += 100) {
      const page = await store.pageRejects(night.runId, 100, offset);
      expect(page.total).toBe(289);
      seen.push(...page.items);
    }
    expect(seen).toHaveLength(289);
    expect(seen[0]).toEqual({
      file: 'ST_8865.csv',
      line: 2,
      key: FORMULA_KEY,
      field: 'BIRTHDATE',
      code: 'ETL_TYPE_DATE',
      message: 'not a date (line 2)',
    });
    expect(seen.map((r) => (r as { line: number }).line)).toEqual(night.rejects.map((r) => r.line));
    expect(JSON.stringify(seen)).not.toContain('secret original line');
    expect(await store.pageRejects(night.runId, 100, 300)).toEqual({ items: [], total: 289 });
  });

  it("gives the charts one school's finished runs since a date, oldest first, and its tables' rows per run", async () => {
    const since = new Date(last.getTime() - 9.5 * 86_400_000);
    const runs = await store.chartRuns('8865', since);
    expect(runs.map((r) => r.id)).toEqual(nights.slice(-10).map((n) => n.runId));
    const lastRun = runs.at(-1);
    expect(lastRun).toMatchObject({ rows: nights.at(-1)?.outcome.rows, rejected: 289, status: 'warning' });
    expect(lastRun?.rows).toBeGreaterThan(70_000);
    // (SQLite works the duration out with julianday(), a float: within a millisecond.)
    const seeded = nights.at(-1) as SeededNight;
    const duration = seeded.outcome.finishedAt.getTime() - seeded.startedAt.getTime();
    expect(Math.abs((lastRun?.durationMs ?? 0) - duration)).toBeLessThanOrEqual(1);
    expect((await store.chartRuns('8865', new Date(0))).map((r) => r.id)).toEqual(nights.map((n) => n.runId));

    const points = await store.chartTableRows('8865', since);
    const expected = nights.slice(-10).flatMap((n) =>
      n.files.map((f) => ({
        runId: n.runId,
        startedAt: n.startedAt.toISOString(),
        table: f.table,
        mode: 'full',
        rows: f.rows,
      })),
    );
    expect(points).toEqual(expected);
    expect(await store.chartRuns('1234', since)).toHaveLength(3);
    expect(await store.chartTableRows('0000', since)).toEqual([]);
  });
});
