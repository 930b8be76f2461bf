import { Job, type Queue } from 'bullmq';

import type { JobsConfig } from '../config/index.js';
import { EtlError } from '../errors/index.js';
import type { RunReport } from '../pipeline/index.js';
import { RUN_JOB, runDedupId, runReportIn, type RunJobData } from './names.js';
import { jobOptions } from './schedule.js';

export interface TriggerResult {
  readonly jobId: string;
  /** False when a run of the school was already waiting and that job is returned instead. */
  readonly created: boolean;
}

/**
 * Queues a run of one school now. A school that already has a run waiting gets that job back
 * instead of a second one (BullMQ deduplication by school; the key is released when the run
 * starts, so a trigger during a run queues the next one).
 */
export async function enqueueRun(queue: Queue, config: JobsConfig, data: RunJobData): Promise<TriggerResult> {
  const dedupId = runDedupId(data.school);
  // A deduplicated add returns the waiting job's id; asking first tells the two cases apart.
  const waiting = await queue.getDeduplicationJobId(dedupId);
  const job = await queue.add(RUN_JOB, data, { ...jobOptions(config), deduplication: { id: dedupId } });
  if (!job.id) throw new EtlError('ETL_JOB_LOST', `the queue returned no job id for school ${data.school}`);
  return { jobId: job.id, created: waiting !== job.id };
}

/** How a run job ended: its run's report when the run got that far, else why the job failed. */
export interface SettledRunJob {
  readonly jobId: string;
  readonly state: 'completed' | 'failed';
  /** The run as `run` prints it; null when the job failed before its run finished (the database down throughout). */
  readonly report: RunReport | null;
  /** Why the job failed, when it did. */
  readonly failedReason: string | null;
}

/**
 * Waits for a run job to complete or fail for good (BullMQ's `failed` is final: a retry waits as
 * `delayed`). While it waits to start, no worker connected to the queue for `noWorkerMs` is
 * ETL_JOB_NO_WORKER: nothing would ever take it, and waiting would never end.
 */
export async function waitForRunJob(
  queue: Queue,
  jobId: string,
  options: { pollMs?: number; noWorkerMs?: number } = {},
): Promise<SettledRunJob> {
  const { pollMs = 250, noWorkerMs = 10_000 } = options;
  let lonelySince: number | null = null;
  let checkWorkers = true;
  for (;;) {
    // The state first, the job after: a job fetched while active and settled a moment later would lack its outcome.
    const state = await queue.getJobState(jobId);
    if (state === 'completed' || state === 'failed') {
      const job = await Job.fromId(queue, jobId);
      if (!job) break;
      const failedReason = state === 'failed' ? job.failedReason || `job ${jobId} failed` : null;
      return { jobId, state, report: runReportIn(job.progress), failedReason };
    }
    if (state === 'unknown') break;
    if (checkWorkers && (state === 'waiting' || state === 'prioritized' || state === 'waiting-children')) {
      // BullMQ counts workers with CLIENT LIST, which some managed Redis services refuse: then
      // there is no telling, and the wait goes on as it did before this check.
      const workers = await queue.getWorkersCount().catch(() => null);
      if (workers === null) checkWorkers = false;
      else if (workers > 0) lonelySince = null;
      else if (lonelySince === null) lonelySince = Date.now();
      else if (Date.now() - lonelySince >= noWorkerMs)
        throw new EtlError(
          'ETL_JOB_NO_WORKER',
          `job ${jobId} is queued, but no worker has been connected to the queue for ${noWorkerMs} ms (ETL_REDIS_CONNECT_TIMEOUT_MS); it stays queued`,
        );
    } else lonelySince = null;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  throw new EtlError('ETL_JOB_LOST', `job ${jobId} is gone from the queue before it settled`);
}
