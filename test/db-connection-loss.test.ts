import { readdir, utimes } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadConfig, type Config } from '../src/config/index.js';
import { generateSchool } from '../src/generate/index.js';
import { describeFailure } from '../src/errors/index.js';
import { storeFailureKind } from '../src/store/index.js';
import { runEtl } from '../src/pipeline/index.js';
import { editCsv } from './helpers/nights.js';
import { createTarget, type Probe, type Target } from './helpers/targets.js';
import { startTcpProxy, type ProxyFault, type TcpProxy } from './helpers/tcp-proxy.js';

/**
 * PostgreSQL lost mid-run (issue 23): the run talks to the database through a TCP proxy that
 * drops, resets or stalls every connection after a seeded number of bytes. The run must fail
 * cleanly — rejected with an error classified ETL_DB_UNAVAILABLE and retryable, nothing
 * published, the school's lock free — and a retry (as the job would make) through a healthy
 * connection must succeed and account for the lost run in the ledger.
 */

const SEED = Number(process.env.CONNECTION_LOSS_SEED ?? 23_005);
const FAULTS: readonly ProxyFault[] = ['drop', 'reset', 'stall', 'drop', 'reset', 'stall'];

function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe('PostgreSQL connection loss mid-run', () => {
  let target: Target;
  let proxy: TcpProxy;
  let source: string;
  let healthy: Config;
  let proxied: Config;
  /** Bytes an uninterrupted run sends, from opening the store to closing it. */
  let runBytes = 0;

  const settle = async (): Promise<void> => {
    const t = new Date(Date.now() - 60_000);
    for (const name of await readdir(source)) await utimes(join(source, name), t, t);
  };
  const withProbe = async <T>(fn: (probe: Probe) => Promise<T>): Promise<T> => {
    const probe = await target.probe();
    try {
      return await fn(probe);
    } finally {
      await probe.close();
    }
  };
  /** A new night: every student's surname gets `suffix`. */
  const editSurnames = (suffix: string): Promise<void> =>
    editCsv(
      join(source, 'ST_8865.csv'),
      (rows, col) => rows.map((r) => Object.assign([...r], { [col('SURNAME')]: `${r[col('SURNAME')]}${suffix}` })),
      new Date(Date.now() - 60_000),
    );
  const mirror = (): Promise<unknown> => withProbe((p) => p.all(`SELECT * FROM cases_st ORDER BY stkey`));

  beforeAll(async () => {
    target = await createTarget('postgres');
    proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
    source = join(target.dir, 'export');
    await generateSchool({ outDir: source, students: 200, seed: 7 });
    await settle();
    const env = { ...target.env, CASES_DIRECTORY: source, ETL_LOCK_TIMEOUT_MS: '2000' };
    healthy = loadConfig(env);
    proxied = loadConfig({ ...env, DATABASE_URL: proxy.url(target.env.DATABASE_URL as string) });
    // A first night creates the tables; a second one through the proxy, unharmed, measures the
    // bytes of a night like the ones the cases load (a first load sends more: every row is new).
    expect((await runEtl({ config: healthy, notifier: null })).status).toBe('succeeded');
    await editSurnames('Z');
    proxy.heal();
    expect((await runEtl({ config: proxied, notifier: null })).status).toBe('succeeded');
    runBytes = proxy.bytesSent;
  });
  afterAll(async () => {
    await proxy?.close();
    await target?.cleanup();
  });

  const random = seededRandom(SEED);
  for (const [index, fault] of FAULTS.entries()) {
    it(`${fault} #${index}: fails with ETL_DB_UNAVAILABLE, publishes nothing, frees the lock; the retry succeeds (seed ${SEED})`, async () => {
      // Every case brings a new night, so a run that got through would change the mirror.
      await editSurnames(String(index));
      const before = await mirror();
      const runsBefore = await withProbe((p) => p.all(`SELECT id FROM etl_runs ORDER BY id`));

      // Short of the whole, so the fault always lands inside the run (nights differ a little in size).
      const afterBytes = Math.floor(random() * runBytes * 0.9);
      proxy.arm(fault, afterBytes, 200 + Math.floor(random() * 600));
      const started = Date.now();
      const error = await runEtl({ config: proxied, notifier: null }).then(
        (r) => new Error(`the run was not interrupted (fault after ${afterBytes} of ${runBytes} bytes): ${r.status}`),
        (err: unknown) => err,
      );
      expect(proxy.faulted, `the fault after ${afterBytes} of ${runBytes} bytes must have fired`).toBe(true);
      const failure = describeFailure(error, storeFailureKind);
      expect(
        { code: failure.code, retry: failure.retry },
        `${fault} after ${afterBytes} bytes: ${String(error)}`,
      ).toEqual({ code: 'ETL_DB_UNAVAILABLE', retry: true });
      expect(Date.now() - started, 'a lost connection must fail the run, not hang it').toBeLessThan(20_000);

      // Nothing published; the run's own row (if the database saw it) failed, or left running.
      expect(await mirror()).toEqual(before);
      const lost = await withProbe((p) =>
        p.all(`SELECT id, status, error_code FROM etl_runs WHERE id > ? ORDER BY id`, [
          Number(runsBefore.at(-1)?.id ?? 0),
        ]),
      );
      expect(lost.length).toBeLessThanOrEqual(1);
      for (const run of lost)
        expect([
          { status: 'running', error_code: null },
          { status: 'failed', error_code: 'ETL_DB_UNAVAILABLE' },
        ]).toContainEqual({ status: run.status, error_code: run.error_code });

      // The job's retry, through a healthy connection: the lock is free at once (a 2 s lock timeout
      // would otherwise fail it with ETL_RUN_LOCKED), the night is published, the lost run marked.
      proxy.heal();
      const retry = await runEtl({ config: healthy, notifier: null });
      expect(retry.status).toBe('succeeded');
      expect(await mirror()).not.toEqual(before);
      for (const run of lost) {
        const [now] = await withProbe((p) => p.all(`SELECT status, error_code FROM etl_runs WHERE id = ?`, [run.id]));
        expect(now).toEqual(
          run.status === 'running'
            ? { status: 'failed', error_code: 'ETL_RUN_INTERRUPTED' }
            : { status: 'failed', error_code: 'ETL_DB_UNAVAILABLE' },
        );
      }
    });
  }
});
