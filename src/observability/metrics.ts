import type { Queue } from 'bullmq';
import { collectDefaultMetrics, Counter, Gauge, Registry, type Metric } from 'prom-client';

import { assessHealth, type HealthStatus } from './health.js';
import { DURATION_BUCKETS, type FinishedAs, type RunStatus, type SchoolSummary, type Store } from '../store/index.js';

/**
 * Prometheus metrics for `GET /metrics`. The figures come from the run ledger at scrape time, not
 * from this process's memory: with several workers on several machines, any `serve` reports
 * every school's runs, and a restart loses nothing. Labels are school numbers, statuses and
 * change kinds, never personal data.
 */

const FINISHED_AS: readonly FinishedAs[] = ['succeeded', 'warning', 'failed', 'skipped'];
const FINISHED: readonly Exclude<RunStatus, 'running'>[] = ['succeeded', 'warning', 'failed', 'skipped', 'rolled_back'];
const CHANGES = ['inserted', 'updated', 'deactivated', 'reactivated'] as const;
const HEALTH_STATES: readonly HealthStatus[] = ['healthy', 'degraded', 'unhealthy'];
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
    'Finished runs (not dry runs) by school and the status they finished with; a run rolled back later still counts as it finished, so this never goes down.',
    ['school', 'status'],
  );
  const rolledBack = counter(
    'cases_etl_runs_rolled_back_total',
    'Published runs undone by a rollback since (a rollback may undo several), by school.',
    ['school'],
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
    'cases_etl_last_run_error_ratio',
    "Share of rows the school's newest finished run rejected (0–1; the run fails above ETL_MAX_ERROR_RATE).",
    ['school'],
  );
  const lastPublished = gauge(
    'cases_etl_last_published_timestamp_seconds',
    "When the school's newest run that still stands published (Unix time): alert when it is over a day old.",
    ['school'],
  );
  const queueJobs = gauge('cases_etl_queue_jobs', 'Jobs in the cases-etl queue by state.', ['state']);
  const tableRows = gauge(
    'cases_etl_table_rows',
    'Mirror rows per school and table as published runs left them (rolled-back runs not counted): active, and inactive (left the export, kept).',
    ['school', 'table', 'state'],
  );
  const rowsByTable = new TableRowsFromLedger(source.store);
  const health = gauge(
    'cases_etl_health_status',
    "1 for the status /api/cases-etl/health reports now (the seed's thresholds over the last 10 runs), 0 for the others.",
    ['status'],
  );
  const durations = new LedgerHistogram(
    'cases_etl_run_duration_seconds',
    'How long finished runs took (not dry runs; rolled back since or not), by school.',
  );
  registry.registerMetric(durations as unknown as Metric);

  const perScrape = [
    runs,
    rolledBack,
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
    durations,
    health,
    tableRows,
  ];

  async function refresh(): Promise<void> {
    for (const metric of perScrape) metric.reset();
    try {
      const summaries = await source.store.schoolSummaries();
      for (const s of summaries) {
        const school = { school: s.school };
        for (const status of FINISHED_AS) runs.inc({ ...school, status }, s.finished[status] ?? 0);
        rolledBack.inc(school, s.runs.rolled_back ?? 0);
        for (const change of CHANGES) rows.inc({ ...school, change }, s.rows[change]);
        for (const outcome of ['held', 'deferred'] as const) kept.inc({ ...school, outcome }, s.kept[outcome]);
        rejected.inc(school, s.rejected);
        rollbacks.inc(school, s.rollbacks);
        durations.set(s.school, s.durations);
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
      const rollbacksSoFar = summaries.reduce((n, x) => n + x.rollbacks, 0);
      for (const t of await rowsByTable.read(rollbacksSoFar)) {
        tableRows.set({ school: t.school, table: t.table, state: 'active' }, t.active);
        tableRows.set({ school: t.school, table: t.table, state: 'inactive' }, t.inactive);
      }
      const now = assessHealth(await source.store.listRuns({ limit: 10 })).status;
      for (const status of HEALTH_STATES) health.set({ status }, status === now ? 1 : 0);
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

/**
 * A histogram whose buckets are counted by the ledger (one grouped query at each scrape), not by
 * observing runs in this process: prom-client's Histogram can only observe, and this process
 * sees only its own runs. Cumulative over every run the ledger holds, so it never goes down.
 */
class LedgerHistogram {
  private bySchool = new Map<string, SchoolSummary['durations']>();

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  set(school: string, durations: SchoolSummary['durations']): void {
    this.bySchool.set(school, durations);
  }

  reset(): void {
    this.bySchool.clear();
  }

  get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: HistogramValue[] }> {
    const values: HistogramValue[] = [];
    for (const [school, d] of this.bySchool) {
      DURATION_BUCKETS.forEach((le, i) =>
        values.push({ metricName: `${this.name}_bucket`, labels: { school, le }, value: d.buckets[i] ?? 0 }),
      );
      values.push({ metricName: `${this.name}_bucket`, labels: { school, le: '+Inf' }, value: d.count });
      values.push({ metricName: `${this.name}_sum`, labels: { school }, value: d.seconds });
      values.push({ metricName: `${this.name}_count`, labels: { school }, value: d.count });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: 'histogram', aggregator: 'sum', values });
  }
}

interface HistogramValue {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/**
 * Rows per school and table, summed from the ledger's per-file counts: the first scrape reads
 * every published run, later ones only the runs since (a year of nights for 20 schools is
 * 120,000 file rows, too many to sum at every scrape). A rollback changes what earlier runs
 * count, so a new one starts the sum again.
 */
class TableRowsFromLedger {
  private through = 0;
  private rollbacks = -1;
  private readonly counts = new Map<string, { school: string; table: string; active: number; inactive: number }>();

  constructor(private readonly store: Store) {}

  async read(rollbacks: number): Promise<Array<{ school: string; table: string; active: number; inactive: number }>> {
    if (rollbacks !== this.rollbacks) {
      this.counts.clear();
      this.through = 0;
    }
    const next = await this.store.tableRows(this.through, null);
    for (const t of next.tables) {
      const key = `${t.school}\u001f${t.table}`;
      const had = this.counts.get(key) ?? { school: t.school, table: t.table, active: 0, inactive: 0 };
      this.counts.set(key, { ...had, active: had.active + t.active, inactive: had.inactive + t.inactive });
    }
    // Only once the sum is complete: a scrape that failed midway reads the same runs again.
    this.through = Math.max(this.through, next.through);
    this.rollbacks = rollbacks;
    return [...this.counts.values()];
  }
}
