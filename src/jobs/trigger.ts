import { Job, type Queue } from 'bullmq';

import type { JobsConfig } from '../config/index.js';
import { RUN_JOB, runDedupId, type RunJobData } from './names.js';
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
  if (!job.id) throw new Error(`the queue returned no job id for school ${data.school}`);
  return { jobId: job.id, created: waiting !== job.id };
}

/** Waits for a job to finish and returns its return value, or throws its failure reason. */
export async function waitForJob<T>(queue: Queue, jobId: string, pollMs = 250): Promise<T> {
  for (;;) {
    const job = await Job.fromId(queue, jobId);
    if (!job) throw new Error(`job ${jobId} is gone`);
    const state = await job.getState();
    if (state === 'completed') return job.returnvalue as T;
    if (state === 'failed' && (job.attemptsMade >= (job.opts.attempts ?? 1) || job.finishedOn !== undefined))
      throw new Error(job.failedReason || `job ${jobId} failed`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
