import { deepStrictEqual } from 'node:assert/strict';
import { join } from 'node:path';

import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';

import type { Config } from '../src/config/index.js';
import { loadLayouts, type LayoutRegistry } from '../src/layouts/index.js';
import { rollbackRun, runEtl } from '../src/pipeline/index.js';
import { createStore, type Store } from '../src/store/index.js';
import { readMirror, type MirrorRow } from './helpers/mirror-state.js';
import { nightsArb, writeNight, type Night } from './helpers/night-model.js';
import { createTarget, DIALECTS, type Dialect, type Probe, type Target } from './helpers/targets.js';

/**
 * Full rollback as a property: load a random sequence of nights, roll back the last k published
 * runs with cascade, and the mirror tables must equal, row by row (inactive rows and bookkeeping
 * included), a fresh load of only the nights before the first undone run.
 *
 * The seed is fixed, so CI runs the same cases every time. Reproduce a failure with the seed and
 * path fast-check prints, on the dialect that failed (the path replays the shrunk case alone):
 *   ROLLBACK_PROPERTY_SEED=<seed> ROLLBACK_PROPERTY_PATH=<path> npx vitest run test/rollback-property.test.ts -t postgres
 * ROLLBACK_PROPERTY_SEED alone with ROLLBACK_PROPERTY_RUNS=1000 is a longer hunt for new cases.
 */

const SEED = Number(process.env.ROLLBACK_PROPERTY_SEED ?? 20_240_611);
const PATH = process.env.ROLLBACK_PROPERTY_PATH;
/**
 * Cases per dialect: each is two schools' worth of nightly runs, about 75 ms on SQLite and 250 ms
 * on PostgreSQL, so each dialect takes some 30–40 seconds.
 */
const NUM_RUNS: Record<Dialect, number> = {
  sqlite: Number(process.env.ROLLBACK_PROPERTY_RUNS ?? 400),
  postgres: Number(process.env.ROLLBACK_PROPERTY_RUNS ?? 150),
};
const MAX_NIGHTS = 6;
/** Passing takes under a minute per dialect; the rest is room for shrinking a failure. */
const TIMEOUT_MS = 300_000;

/** The tables the model writes, with their keys. */
const TABLES = [
  { table: 'ST', key: 'stkey' },
  { table: 'SF', key: 'sfkey' },
] as const;

const PUBLISHED = new Set(['succeeded', 'warning']);

interface LoadedNight {
  readonly night: number;
  readonly runId: number;
  readonly status: string;
}

describe.each(DIALECTS)('full rollback on %s (property)', (dialect) => {
  let target: Target;
  let config: Config;
  let store: Store;
  let layouts: LayoutRegistry;
  let probe: Probe;
  // Every case, and every shrink of one, loads its nights as new schools: one database per file.
  let schools = 0;
  // Nights are stamped from here on, an hour apart, well before now.
  const epoch = new Date(Date.now() - 30 * 86_400_000);

  beforeAll(async () => {
    target = await createTarget(dialect);
    // Guards stay out of the way: whole classes may leave, and any share of rows may be rejected.
    config = target.config({ ETL_REQUIRED_TABLES: 'ST', ETL_MAX_SHRINK: '1', ETL_MAX_ERROR_RATE: '1' });
    store = await createStore(config.database, { lockTimeoutMs: config.lockTimeoutMs });
    await store.migrate();
    layouts = await loadLayouts(config.relationshipsPath, { optional: !config.relationshipsExplicit });
    probe = await target.probe();
  });
  afterAll(async () => {
    await probe?.close();
    await store?.close();
    await target?.cleanup();
  });

  /** Loads `nights` in order as school `school`, one run per night once the folder has files. */
  async function loadNights(school: string, nights: readonly Night[]): Promise<LoadedNight[]> {
    const dir = join(target.dir, 'export', school);
    const loaded: LoadedNight[] = [];
    let hasFiles = false;
    for (const [index, night] of nights.entries()) {
      await writeNight(dir, school, night, index, epoch);
      hasFiles ||= night.kind !== 'unchanged';
      // An empty folder is not a night of this school's: nothing would say whose it was.
      if (!hasFiles) continue;
      const result = await runEtl({ config, store, layouts, source: dir, allowShrink: true });
      const run = result.runs[0];
      // No guard can trip: a failed night is a bug in the model or the load.
      if (!run || run.runId === null || !(PUBLISHED.has(run.status) || run.status === 'skipped')) {
        throw new Error(
          `night ${index} of school ${school} did not load: ${run?.status ?? 'no run'} ${result.errors.join('; ')}`,
        );
      }
      loaded.push({ night: index, runId: run.runId, status: run.status });
    }
    return loaded;
  }

  async function mirrorState(school: string): Promise<Record<string, MirrorRow[]>> {
    const state: Record<string, MirrorRow[]> = {};
    for (const { table, key } of TABLES) state[table] = await readMirror(probe, dialect, table, key, school);
    return state;
  }

  it(
    `rolling back the last k runs with cascade equals loading only the first n-k (seed ${SEED}, ${NUM_RUNS[dialect]} cases)`,
    { timeout: TIMEOUT_MS },
    async () => {
      await fc.assert(
        // `fromNight`: roll back from the first published run of that night or later (else the last
        // published run). Anchored to a night rather than a count, so dropping nights while shrinking
        // mostly keeps the same runs undone.
        fc.asyncProperty(nightsArb(MAX_NIGHTS), fc.nat({ max: MAX_NIGHTS - 1 }), async (nights, fromNight) => {
          schools += 1;
          const school = String(100_000 + 2 * schools);
          const replaySchool = String(100_001 + 2 * schools);

          const loaded = await loadNights(school, nights);
          const published = loaded.filter((l) => PUBLISHED.has(l.status));
          // Only when every night was "unchanged": nothing was loaded, so nothing to roll back.
          fc.pre(published.length > 0);
          const from = published.findIndex((l) => l.night >= fromNight);
          const undone = published.slice(from === -1 ? -1 : from);
          const first = undone[0] as LoadedNight;

          const result = await rollbackRun(first.runId, { config, store, cascade: true, requestedBy: 'property-test' });
          deepStrictEqual(
            result.runs.map((r) => r.runId),
            undone.map((l) => l.runId).reverse(),
            'the rollback undoes the last k published runs, newest first',
          );

          // The expected state: the nights before the first undone run, loaded into a clean school.
          await loadNights(replaySchool, nights.slice(0, first.night));
          deepStrictEqual(await mirrorState(school), await mirrorState(replaySchool));

          // The ledger: undone runs are rolled_back by this rollback, the rest as they were.
          const undoneIds = new Set(undone.map((l) => l.runId));
          const runs = await probe.all(`SELECT id, status, rollback_id FROM etl_runs WHERE school_id = ? ORDER BY id`, [
            school,
          ]);
          deepStrictEqual(
            runs.map((r) => ({
              id: Number(r.id),
              status: r.status,
              rollbackId: r.rollback_id === null ? null : Number(r.rollback_id),
            })),
            loaded.map((l) =>
              undoneIds.has(l.runId)
                ? { id: l.runId, status: 'rolled_back', rollbackId: result.rollbackId }
                : { id: l.runId, status: l.status, rollbackId: null },
            ),
          );
          const rollbacks = await probe.all(`SELECT id, target_run_id FROM etl_rollbacks WHERE school_id = ?`, [
            school,
          ]);
          deepStrictEqual(
            rollbacks.map((r) => ({ id: Number(r.id), target: Number(r.target_run_id) })),
            [{ id: result.rollbackId, target: first.runId }],
          );
        }),
        { seed: SEED, numRuns: NUM_RUNS[dialect], ...(PATH ? { path: PATH } : {}) },
      );
    },
  );
});
