import { join } from 'node:path';

import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { triggerEtl, type App } from '../src/app/index.js';
import { buildServer } from '../src/http/index.js';
import { rollbackRun, runEtl } from '../src/pipeline/index.js';
import { jobApp, obliterate, uniquePrefix } from './helpers/jobs.js';
import { copySample, editCsv } from './helpers/nights.js';
import { createTarget, DIALECTS, type Target } from './helpers/targets.js';

/** The value of one sample in Prometheus text format, or undefined when it is absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = (m[2] ?? '').split(',').filter(Boolean);
    if (want.every((w) => have.includes(w)) && have.length === want.length) return Number(m[3]);
  }
  return undefined;
}

describe.each(DIALECTS)('Prometheus /metrics on %s', (dialect) => {
  let target: Target;
  let app: App;
  let server: FastifyInstance;
  let base: string;
  let prefix: string;
  let src: string;

  beforeEach(async () => {
    target = await createTarget(dialect);
    prefix = uniquePrefix();
    src = join(target.dir, 'export');
    await copySample(src);
    app = await jobApp(target, { CASES_DIRECTORY: src, ETL_QUEUE_PREFIX: prefix });
    server = buildServer(app, { trigger: async () => ({ jobId: null, created: false, mode: 'queue' }) });
    base = await server.listen({ port: 0, host: '127.0.0.1' });
  });
  afterEach(async () => {
    await server.close();
    await app.stop();
    await obliterate(prefix);
    await target.cleanup();
  });

  const scrape = async (): Promise<string> => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return res.text();
  };

  it('counts every run, row, reject and rollback from the ledger, per school', async () => {
    const empty = await scrape();
    expect(sample(empty, 'cases_etl_ledger_up')).toBe(1);
    expect(sample(empty, 'cases_etl_build_info', { version: '0.1.0', node: process.version })).toBe(1);
    expect(sample(empty, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(empty).not.toMatch(/school="8865"/);

    const first = await runEtl({ config: app.config, store: app.store, layouts: app.layouts });
    expect(first.status).toBe('succeeded');
    await editCsv(join(src, 'ST_8865.csv'), (rows, col) =>
      rows.map((r, i) => (i < 2 ? Object.assign([...r], { [col('BIRTHDATE')]: 'not a date' }) : r)),
    );
    const second = await runEtl({ config: app.config, store: app.store, layouts: app.layouts });
    expect(second.status).toBe('warning');
    await rollbackRun(second.runId as number, { config: app.config, store: app.store });

    const text = await scrape();
    const school = { school: '8865' };
    expect(sample(text, 'cases_etl_runs_total', { ...school, status: 'succeeded' })).toBe(1);
    expect(sample(text, 'cases_etl_runs_total', { ...school, status: 'rolled_back' })).toBe(1);
    expect(sample(text, 'cases_etl_runs_total', { ...school, status: 'failed' })).toBe(0);
    expect(sample(text, 'cases_etl_rows_written_total', { ...school, change: 'inserted' })).toBe(
      first.stats.inserted + second.stats.inserted,
    );
    expect(sample(text, 'cases_etl_rows_written_total', { ...school, change: 'updated' })).toBe(second.stats.updated);
    // The two students with a bad birth date were held as they were, not marked inactive.
    expect(second.stats.held).toBe(2);
    expect(sample(text, 'cases_etl_rows_total', { ...school, outcome: 'held' })).toBe(2);
    expect(sample(text, 'cases_etl_rows_total', { ...school, outcome: 'deferred' })).toBe(0);
    expect(sample(text, 'cases_etl_rejected_rows_total', school)).toBe(2);
    expect(sample(text, 'cases_etl_rollbacks_total', school)).toBe(1);
    expect(sample(text, 'cases_etl_runs_in_progress', school)).toBe(0);
    expect(sample(text, 'cases_etl_last_run_status', { ...school, status: 'rolled_back' })).toBe(1);
    expect(sample(text, 'cases_etl_last_run_status', { ...school, status: 'warning' })).toBe(0);
    expect(sample(text, 'cases_etl_last_run_rows', school)).toBe(second.stats.rows);
    expect(sample(text, 'cases_etl_last_run_error_rate', school)).toBeCloseTo(second.stats.errorRate, 9);
    const firstRecord = await app.store.getRun(first.runId as number);
    expect(sample(text, 'cases_etl_last_published_timestamp_seconds', school)).toBe(
      Date.parse(firstRecord?.finishedAt as string) / 1000,
    );
    expect(sample(text, 'cases_etl_last_run_timestamp_seconds', school)).toBeGreaterThan(
      sample(text, 'cases_etl_last_published_timestamp_seconds', school) as number,
    );
  });

  it('shows the queue by state, and says so when the ledger or Redis cannot be read', async () => {
    await triggerEtl({ app, school: '8865' });
    const text = await scrape();
    expect(sample(text, 'cases_etl_queue_up')).toBe(1);
    expect(sample(text, 'cases_etl_queue_jobs', { state: 'waiting' })).toBe(1);
    expect(sample(text, 'cases_etl_queue_jobs', { state: 'active' })).toBe(0);
    await (app.queue as Queue).obliterate({ force: true });

    app.redis?.disconnect();
    await app.store.close();
    const down = await scrape();
    expect(sample(down, 'cases_etl_ledger_up')).toBe(0);
    expect(sample(down, 'cases_etl_queue_up')).toBe(0);
    expect(sample(down, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
  });
});
