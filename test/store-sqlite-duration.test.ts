import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createSqliteStore } from '../src/store/sqlite/index.js';
import type { Store } from '../src/store/types.js';
import { emptyOutcome, newRun } from './helpers/postgres.js';

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

describe('SQLite run duration', () => {
  it('is the exact number of milliseconds between start and finish', async () => {
    const wanted: number[] = [];
    const got: Array<number | null> = [];
    for (let i = 0; i < 40; i++) {
      const startedAt = new Date(Date.UTC(2026, 2, 1, 2, 0, 0) + i * 7919);
      const ms = 1 + i * 13;
      const id = await store.withRunSession('8865', 1000, async (session) => {
        const runId = await session.startRun(newRun('8865', { startedAt }));
        await session.transaction((tx) =>
          tx.recordRun(runId, emptyOutcome({ finishedAt: new Date(startedAt.getTime() + ms) }), [], []),
        );
        return runId;
      });
      wanted.push(ms);
      got.push((await store.getRun(id))?.durationMs ?? null);
    }
    expect(got).toEqual(wanted);
  });
});
