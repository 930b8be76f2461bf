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

export interface NightlyJobData {
  readonly trigger: 'schedule';
}

/** Deduplication id: at most one waiting run per school. */
export function runDedupId(school: string): string {
  return `run:${school}`;
}
