import type { RunReport } from '../pipeline/index.js';

/** The queue and job names on Redis. */
export const QUEUE_NAME = 'cases-etl';

/** The job scheduler's id: one nightly schedule per queue (per prefix). */
export const SCHEDULER_ID = 'cases-etl-nightly';

/** Fired by the scheduler; fans out into one `run` job per school. */
export const NIGHTLY_JOB = 'nightly';

/** One school's run. */
export const RUN_JOB = 'run';

export interface RunJobData {
  readonly school: string;
  readonly force: boolean;
  readonly trigger: 'schedule' | 'manual' | 'api';
  /** The local night (in ETL_TIMEZONE) a scheduled run belongs to, YYYY-MM-DD. */
  readonly night?: string;
}

/**
 * A run job's last progress: the last file's progress, and the finished run as `run` prints it. A
 * failed run fails its job, and a failed job keeps no return value, so the report travels as
 * progress: `trigger --wait` prints the same summary whatever the outcome.
 */
export interface RunJobReport {
  readonly school: string;
  readonly report: RunReport;
}

/** The run's report in a job's progress, or null while (or when) it has none. */
export function runReportIn(progress: unknown): RunReport | null {
  const p = progress as Partial<RunJobReport> | null;
  return typeof p === 'object' && p !== null && typeof p.report === 'object' && p.report !== null ? p.report : null;
}

export interface NightlyJobData {
  readonly trigger: 'schedule';
}

/** Deduplication id: at most one waiting run per school. */
export function runDedupId(school: string): string {
  return `run:${school}`;
}
