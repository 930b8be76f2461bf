import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { triggerEtl, type App } from '../src/app/index.js';
import { buildServer } from '../src/http/index.js';
import { rollbackRun, runEtl } from '../src/pipeline/index.js';
import { jobApp, obliterate, uniquePrefix } from './helpers/jobs.js';
import { copySample, editCsv } from './helpers/nights.js';
import { createTarget, DIALECTS, type Target } from './helpers/targets.js';

const DEPLOY = fileURLToPath(new URL('../deploy/', import.meta.url));

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

  /** cases_etl_table_rows against the mirror tables themselves, for each table of the sample. */
  const expectTableRows = async (text: string): Promise<void> => {
    const probe = await target.probe();
    try {
      for (const table of ['ST', 'DF', 'SF', 'KGC', 'SU']) {
        const counts = await probe.all(
          `SELECT _active AS a, count(*) AS n FROM cases_${table.toLowerCase()} WHERE school_id = '8865' GROUP BY _active`,
        );
        const of = (a: number): number => Number(counts.find((c) => c.a === a)?.n ?? 0);
        expect(of(1), table).toBeGreaterThan(0);
        for (const [state, a] of [
          ['active', 1],
          ['inactive', 0],
        ] as const)
          expect(sample(text, 'cases_etl_table_rows', { school: '8865', table, state }), `${table} ${state}`).toBe(
            of(a),
          );
      }
    } finally {
      await probe.close();
    }
  };

  it('counts every run, row, reject and rollback from the ledger, per school', async () => {
    const empty = await scrape();
    expect(sample(empty, 'cases_etl_ledger_up')).toBe(1);
    expect(sample(empty, 'cases_etl_build_info', { version: '0.1.0', node: process.version })).toBe(1);
    expect(sample(empty, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(empty).not.toMatch(/school="8865"/);

    const first = await runEtl({ config: app.config, store: app.store, layouts: app.layouts });
    expect(first.status).toBe('succeeded');
    const school = { school: '8865' };
    await expectTableRows(await scrape());
    // Two bad birth dates (held) and the last student gone (marked inactive).
    await editCsv(join(src, 'ST_8865.csv'), (rows, col) =>
      rows.slice(0, -1).map((r, i) => (i < 2 ? Object.assign([...r], { [col('BIRTHDATE')]: 'not a date' }) : r)),
    );
    const second = await runEtl({ config: app.config, store: app.store, layouts: app.layouts });
    expect(second.status).toBe('warning');
    expect(second.stats.deactivated).toBe(1);
    // Read again: only the runs since the last scrape are added.
    await expectTableRows(await scrape());
    await rollbackRun(second.runId as number, { config: app.config, store: app.store });

    const text = await scrape();
    // A rollback starts the sum again: the student is active again.
    await expectTableRows(text);
    // Counters never go down: the rolled-back run still counts as the warning run it finished as.
    expect(sample(text, 'cases_etl_runs_total', { ...school, status: 'succeeded' })).toBe(1);
    expect(sample(text, 'cases_etl_runs_total', { ...school, status: 'warning' })).toBe(1);
    expect(sample(text, 'cases_etl_runs_total', { ...school, status: 'failed' })).toBe(0);
    expect(sample(text, 'cases_etl_runs_total', { ...school, status: 'rolled_back' })).toBeUndefined();
    expect(sample(text, 'cases_etl_runs_rolled_back_total', school)).toBe(1);
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
    expect(sample(text, 'cases_etl_last_run_error_ratio', school)).toBeCloseTo(second.stats.errorRate, 9);
    // Both runs' durations, counted by the ledger: every bucket up to +Inf holds both.
    const runs = await app.store.listRuns({ school: '8865', limit: 10 });
    const slowest = Math.max(...runs.map((r) => (r.durationMs ?? 0) / 1000));
    expect(sample(text, 'cases_etl_run_duration_seconds_count', school)).toBe(2);
    expect(sample(text, 'cases_etl_run_duration_seconds_bucket', { ...school, le: '+Inf' })).toBe(2);
    expect(sample(text, 'cases_etl_run_duration_seconds_bucket', { ...school, le: '3600' })).toBe(2);
    expect(sample(text, 'cases_etl_run_duration_seconds_sum', school)).toBeCloseTo(
      runs.reduce((t, r) => t + (r.durationMs ?? 0) / 1000, 0),
      6,
    );
    expect(slowest).toBeGreaterThan(0);
    // The health endpoint's status, as a gauge an alert can read.
    const health = (await (await fetch(`${base}/api/cases-etl/health`)).json()) as { status: string };
    for (const status of ['healthy', 'degraded', 'unhealthy'])
      expect(sample(text, 'cases_etl_health_status', { status }), status).toBe(status === health.status ? 1 : 0);
    // Prometheus' own linter reads the whole exposition (names, types, help, histogram shape); it
    // finds only prom-client's default nodejs_*_total gauges, which are not ours to rename.
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(lint.error).toBeUndefined();
    const findings = `${lint.stdout}${lint.stderr}`.split('\n').filter((l) => l.trim() !== '');
    expect(findings.filter((l) => !/^nodejs_active_\w+_total non-counter metrics/.test(l))).toEqual([]);
    const firstRecord = await app.store.getRun(first.runId as number);
    expect(sample(text, 'cases_etl_last_published_timestamp_seconds', school)).toBe(
      Date.parse(firstRecord?.finishedAt as string) / 1000,
    );
    expect(sample(text, 'cases_etl_last_run_timestamp_seconds', school)).toBeGreaterThan(
      sample(text, 'cases_etl_last_published_timestamp_seconds', school) as number,
    );
  });

  it('exports every metric the shipped Grafana dashboard and alert rules name', async () => {
    await runEtl({ config: app.config, store: app.store, layouts: app.layouts });
    const text = await scrape();
    const exported = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    const dashboard = JSON.parse(await readFile(join(DEPLOY, 'grafana', 'cases-etl.json'), 'utf8')) as {
      panels: Array<{ targets: Array<{ expr: string }> }>;
      templating: { list: Array<{ definition?: string }> };
    };
    const rules = await readFile(join(DEPLOY, 'prometheus', 'alerts.yml'), 'utf8');
    const expressions = [
      ...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)),
      ...dashboard.templating.list.map((v) => v.definition ?? ''),
      ...[...rules.matchAll(/^\s+expr: (.+)$/gm)].map((m) => m[1] as string),
    ];
    expect(expressions.length).toBeGreaterThan(15);
    const named = new Set(expressions.flatMap((e) => [...e.matchAll(/\bcases_etl_\w+/g)].map((m) => m[0])));
    expect(named.size).toBeGreaterThan(10);
    for (const name of named) {
      const base = name.replace(/_(bucket|sum|count)$/, '');
      expect(exported.has(name) || exported.has(base), name).toBe(true);
    }
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
