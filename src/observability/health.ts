import type { RunRecord } from '../store/index.js';
import { formatShare } from '../util/index.js';

/**
 * The seed's health levels over the last runs: healthy below 20% failed runs and 10% rejected
 * rows; unhealthy above 50% failed runs or 20% rejected rows; degraded between. Also degraded
 * when nothing has published for 36 hours: a schedule that silently stopped is a problem too.
 */
export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

export interface HealthMetrics {
  readonly runs: number;
  readonly failureRate: number;
  readonly errorRate: number;
  readonly averageDurationMs: number;
  readonly averageRows: number;
  readonly lastPublishedAt: string | null;
}

export interface Health {
  readonly status: HealthStatus;
  readonly message: string;
  readonly metrics: HealthMetrics;
}

/** Hours without a published run after which the ETL counts as degraded. */
export const STALE_HOURS = 36;

export function summariseRuns(runs: readonly RunRecord[]): HealthMetrics {
  const counted = runs.filter((r) => !r.dryRun && r.status !== 'skipped' && r.status !== 'running');
  const n = counted.length;
  const avg = (f: (r: RunRecord) => number): number => (n === 0 ? 0 : counted.reduce((s, r) => s + f(r), 0) / n);
  const published = runs.filter((r) => !r.dryRun && (r.status === 'succeeded' || r.status === 'warning'));
  return {
    runs: n,
    failureRate: n === 0 ? 0 : counted.filter((r) => r.status === 'failed').length / n,
    errorRate: avg((r) => r.errorRate),
    averageDurationMs: Math.round(avg((r) => r.durationMs ?? 0)),
    averageRows: Math.round(avg((r) => r.rows)),
    lastPublishedAt: published[0]?.finishedAt ?? null,
  };
}

export function assessHealth(recent: readonly RunRecord[], now: Date = new Date()): Health {
  const m = summariseRuns(recent);
  if (m.runs === 0) return { status: 'healthy', message: 'no runs yet', metrics: m };
  // 0.4% of rows rejected is said so, not rounded to 0% (formatShare).
  const pct = formatShare;
  if (m.failureRate > 0.5 || m.errorRate > 0.2) {
    return {
      status: 'unhealthy',
      message: `${pct(m.failureRate)} of recent runs failed and ${pct(m.errorRate)} of rows were rejected`,
      metrics: m,
    };
  }
  if (m.failureRate >= 0.2 || m.errorRate >= 0.1) {
    return {
      status: 'degraded',
      message: `${pct(m.failureRate)} of recent runs failed and ${pct(m.errorRate)} of rows were rejected`,
      metrics: m,
    };
  }
  if (m.lastPublishedAt === null || now.getTime() - Date.parse(m.lastPublishedAt) > STALE_HOURS * 3_600_000) {
    return { status: 'degraded', message: `no run has published in the last ${STALE_HOURS} hours`, metrics: m };
  }
  return { status: 'healthy', message: 'ETL running normally', metrics: m };
}
