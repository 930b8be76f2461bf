import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { MirrorTable } from '../src/schema/index.js';
import type { MergeCounts, Store } from '../src/store/index.js';
import { createSqliteStore } from '../src/store/sqlite/index.js';
import { batchesOf, stagedRows } from './helpers/postgres.js';

/**
 * The SQLite writer applying the merge plan at a size that crosses its pages: a full file that
 * empties a 20,000-row table deactivates every row (their rowids go over in pages of JSON), logs
 * each once, tells its progress, and the next night brings rows back as reactivations.
 */

const mirror: MirrorTable = {
  table: 'XX',
  name: 'cases_xx',
  key: ['code'],
  columns: [
    { name: 'code', source: 'CODE', type: 'string' },
    { name: 'note', source: 'NOTE', type: 'string' },
  ],
};
const columns = ['code', 'note'];
const ROWS = 20_000;
const records = Array.from({ length: ROWS }, (_, i) => [`C${String(i).padStart(5, '0')}`, `n${i}`]);

describe('SQLite writer', () => {
  let dir: string;
  let store: Store;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'writer-'));
    store = createSqliteStore(join(dir, 'w.db'), { busyTimeoutMs: 5_000 });
    await store.migrate();
  });
  afterAll(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const night = (
    rows: ReadonlyArray<readonly string[]>,
    onDeactivate?: (done: number, total: number) => void,
  ): Promise<{ runId: number; counts: MergeCounts }> =>
    store.withRunSession('8865', 5_000, async (session) => {
      const runId = await session.startRun({
        school: '8865',
        trigger: 'cli',
        jobId: null,
        dryRun: false,
        sourceDir: dir,
        host: hostname(),
        pid: process.pid,
        startedAt: new Date(),
      });
      const counts = await session.transaction(async (tx) => {
        await tx.ensureMirror(mirror);
        return tx.mergeFile(
          { runId, school: '8865', mirror, mode: 'full', columns, ...(onDeactivate ? { onDeactivate } : {}) },
          batchesOf(stagedRows(mirror, columns, rows), 1000),
        );
      });
      return { runId, counts };
    });

  it('deactivates a whole emptied table across pages, logs each row once, and reactivates them the next night', async () => {
    expect((await night(records)).counts).toMatchObject({ inserted: ROWS });
    const progress: Array<[number, number]> = [];
    const emptied = await night([], (done, total) => progress.push([done, total]));
    expect(emptied.counts).toMatchObject({ deactivated: ROWS, inserted: 0, updated: 0 });
    expect(progress[0]).toEqual([0, ROWS]);
    expect(progress.at(-1)).toEqual([ROWS, ROWS]);

    const db = new BetterSqlite3(join(dir, 'w.db'), { readonly: true });
    try {
      expect(db.prepare(`SELECT count(*) FROM cases_xx WHERE _active = 0`).pluck().get()).toBe(ROWS);
      const logged = db
        .prepare(
          `SELECT count(*) AS n, count(DISTINCT row_key) AS keys FROM etl_changes WHERE run_id = ? AND op = 'deactivate'`,
        )
        .get(emptied.runId);
      expect(logged).toEqual({ n: ROWS, keys: ROWS });
    } finally {
      db.close();
    }
    expect((await night(records.slice(0, 100))).counts).toMatchObject({ reactivated: 100, deactivated: 0 });
  });
});
