import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createSqliteStore } from '../src/store/sqlite/index.js';
import type { RunOutcome, Store } from '../src/store/types.js';
import { newRun } from './helpers/postgres.js';

/**
 * A run's duration on SQLite is worked out from its two timestamps by julianday(), a day count in
 * floating point: truncated, half of all durations came out a millisecond short of what
 * PostgreSQL records for the same run. Rounded, every one is exact.
 */

let dir: string;
let store: Store;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'duration-'));
  store = createSqliteStore(join(dir, 'd.db'), { busyTimeoutMs: 1000 });
  await store.migrate();
});
afterAll(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const outcome = (finishedAt: Date): RunOutcome => ({
  status: 'succeeded',
  finishedAt,
  files: 0,
  records: 0,
  rows: 0,
  rejected: 0,
  errorRate: 0,
  inserted: 0,
  updated: 0,
  deactivated: 0,
  reactivated: 0,
  unchanged: 0,
  held: 0,
  deferred: 0,
  filesetSha256: null,
  overrides: [],
  reason: null,
  errorCode: null,
});

describe('SQLite run duration', () => {
  it('is the exact number of milliseconds between start and finish', async () => {
    const wanted: number[] = [];
    const got: Array<number | null> = [];
    for (let i = 0; i < 40; i++) {
      const startedAt = new Date(Date.UTC(2026, 2, 1, 2, 0, 0) + i * 7919);
      const ms = 1 + i * 13;
      const id = await store.withRunSession('8865', 1000, async (session) => {
        const runId = await session.startRun(newRun('8865', { startedAt }));
        await session.transaction((tx) => tx.recordRun(runId, outcome(new Date(startedAt.getTime() + ms)), [], []));
        return runId;
      });
      wanted.push(ms);
      got.push((await store.getRun(id))?.durationMs ?? null);
    }
    expect(got).toEqual(wanted);
  });
});
