import type { Queue } from 'bullmq';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

import type { RunStatus, Store } from '../store/index.js';

/**
 * Prometheus metrics for `GET /metrics`. The figures come from the run ledger at scrape time, not
 * from this process's memory: with several workers on several machines, any `serve` reports
 * every school's runs, and a restart loses nothing. Labels are school numbers, statuses and
 * change kinds, never personal data.
 */

const FINISHED: readonly Exclude<RunStatus, 'running'>[] = ['succeeded', 'warning', 'failed', 'skipped', 'rolled_back'];
const CHANGES = ['inserted', 'updated', 'deactivated', 'reactivated'] as const;
const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized'] as const;

export interface Metrics {
  readonly contentType: string;
  /** Reads the ledger (and the queue) and renders the exposition text. */
  render(): Promise<string>;
}

/**
 * `source.redis`, when given, is the queue's connection: while it is down the queue is not read
 * (a command to it would wait for Redis to return, and the scrape with it).
 */
export function createMetrics(
  source: { readonly store: Store; readonly queue: Queue | null; readonly redis?: { readonly status: string } | null },
  version: string,
): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const counter = (name: string, help: string, labelNames: readonly string[]) =>
    new Counter({ name, help, labelNames, registers: [registry] });
  const gauge = (name: string, help: string, labelNames: readonly string[]) =>
    new Gauge({ name, help, labelNames, registers: [registry] });

  gauge('cases_etl_build_info', 'Always 1; the labels say which cases-etl and Node.js this is.', [
    'version',
    'node',
  ]).set({ version, node: process.version }, 1);
  const ledgerUp = gauge(
    'cases_etl_ledger_up',
    'Whether the run ledger could be read for this scrape (1) or not (0).',
    [],
  );
  const queueUp = gauge(
    'cases_etl_queue_up',
    'Whether the job queue on Redis could be read for this scrape (1) or not (0); absent without Redis.',
    [],
  );
  const runs = counter(
    'cases_etl_runs_total',
    'Finished runs (not dry runs) by school and status; a run rolled back later counts as rolled_back.',
    ['school', 'status'],
  );
  const rows = counter(
    'cases_etl_rows_written_total',
    'Mirror rows written by runs that published, by school and kind of change.',
    ['school', 'change'],
  );
  const kept = counter(
    'cases_etl_rows_total',
    'Rows runs that published left as they were on purpose, by school and outcome: held (rejected, kept at their last version) and deferred (deactivations put off by rejects with no readable key).',
    ['school', 'outcome'],
  );
  const rejected = counter('cases_etl_rejected_rows_total', 'Rows rejected by finished runs, by school.', ['school']);
  const rollbacks = counter('cases_etl_rollbacks_total', 'Rollbacks carried out, by school.', ['school']);
  const running = gauge('cases_etl_runs_in_progress', 'Runs in progress now, by school.', ['school']);
  const lastAt = gauge(
    'cases_etl_last_run_timestamp_seconds',
    "When the school's newest finished run finished (Unix time).",
    ['school'],
  );
  const lastStatus = gauge(
    'cases_etl_last_run_status',
    "1 for the status of the school's newest finished run, 0 for the others.",
    ['school', 'status'],
  );
  const lastDuration = gauge('cases_etl_last_run_duration_seconds', "How long the school's newest finished run took.", [
    'school',
  ]);
  const lastRows = gauge('cases_etl_last_run_rows', "Rows the school's newest finished run read without rejecting.", [
    'school',
  ]);
  const lastErrorRate = gauge(
    'cases_etl_last_run_error_rate',
    "Share of rows the school's newest finished run rejected (0–1).",
    ['school'],
  );
  const lastPublished = gauge(
    'cases_etl_last_published_timestamp_seconds',
    "When the school's newest run that still stands published (Unix time): alert when it is over a day old.",
    ['school'],
  );
  const queueJobs = gauge('cases_etl_queue_jobs', 'Jobs in the cases-etl queue by state.', ['state']);

  const perScrape = [
    runs,
    rows,
    kept,
    rejected,
    rollbacks,
    running,
    lastAt,
    lastStatus,
    lastDuration,
    lastRows,
    lastErrorRate,
    lastPublished,
    queueJobs,
  ];

  async function refresh(): Promise<void> {
    for (const metric of perScrape) metric.reset();
    try {
      for (const s of await source.store.schoolSummaries()) {
        const school = { school: s.school };
        for (const status of FINISHED) runs.inc({ ...school, status }, s.runs[status] ?? 0);
        for (const change of CHANGES) rows.inc({ ...school, change }, s.rows[change]);
        for (const outcome of ['held', 'deferred'] as const) kept.inc({ ...school, outcome }, s.kept[outcome]);
        rejected.inc(school, s.rejected);
        rollbacks.inc(school, s.rollbacks);
        running.set(school, s.running);
        if (s.lastPublishedAt) lastPublished.set(school, Date.parse(s.lastPublishedAt) / 1000);
        const last = s.lastRun;
        if (!last) continue;
        if (last.finishedAt) lastAt.set(school, Date.parse(last.finishedAt) / 1000);
        for (const status of FINISHED) lastStatus.set({ ...school, status }, last.status === status ? 1 : 0);
        lastDuration.set(school, (last.durationMs ?? 0) / 1000);
        lastRows.set(school, last.rows);
        lastErrorRate.set(school, last.errorRate);
      }
      ledgerUp.set(1);
    } catch {
      ledgerUp.set(0);
    }
    if (source.queue && source.redis && source.redis.status !== 'ready') queueUp.set(0);
    else if (source.queue) {
      try {
        const counts = await source.queue.getJobCounts(...QUEUE_STATES);
        for (const state of QUEUE_STATES) queueJobs.set({ state }, counts[state] ?? 0);
        queueUp.set(1);
      } catch {
        queueUp.set(0);
      }
    }
  }

  // Two scrapes at once share one refresh rather than resetting each other's figures midway.
  let inFlight: Promise<string> | null = null;
  return {
    contentType: registry.contentType,
    render() {
      inFlight ??= refresh()
        .then(() => registry.metrics())
        .finally(() => (inFlight = null));
      return inFlight;
    },
  };
}
