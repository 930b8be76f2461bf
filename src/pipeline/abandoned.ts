import type { Config } from '../config/index.js';
import type { ErrorCode } from '../errors/index.js';
import { zeroCounts, type RunRecord, type Store } from '../store/index.js';
import { outcome } from './run-summary.js';

/**
 * Runs a dead worker left behind. A worker killed mid-run leaves its run 'running' in the ledger;
 * the school's next run marks it interrupted. When the job is given up instead (its worker died
 * once too often), no next run comes to do that, and the ledger would show the run as running for
 * ever: this marks it failed, saying which job it was.
 */

/** How far back among a school's runs the job's are looked for: a job's runs are its newest. */
const RECENT_RUNS = 50;

export interface AbandonedRuns {
  readonly school: string;
  /** The BullMQ job whose worker stopped. */
  readonly jobId: string;
  /** The reason each run gets; it names the job. */
  readonly reason: string;
  readonly code: ErrorCode;
}

/**
 * Marks the school's runs of job `jobId` still 'running' as failed with `reason` and `code`, and
 * returns them. Done under the school's run lock, each run read again inside the transaction: a
 * run that was alive after all (its worker only stalled, and finished while the lock was awaited)
 * has a status of its own by then and is left as it is.
 */
export async function failAbandonedRuns(
  config: Pick<Config, 'lockTimeoutMs'>,
  store: Store,
  input: AbandonedRuns,
): Promise<RunRecord[]> {
  const { school, jobId, reason, code } = input;
  const candidates = (await store.listRuns({ school, limit: RECENT_RUNS })).filter(
    (r) => r.status === 'running' && r.jobId === jobId,
  );
  if (candidates.length === 0) return [];
  return store.withRunSession(school, config.lockTimeoutMs, (session) =>
    session.transaction(async (tx) => {
      const failed: RunRecord[] = [];
      for (const candidate of candidates) {
        const run = await tx.getRun(candidate.id);
        if (run?.status !== 'running' || run.jobId !== jobId) continue;
        const durationMs = Math.max(0, Date.now() - Date.parse(run.startedAt));
        const stats = { ...zeroCounts(), files: 0, records: 0, rows: 0, rejected: 0, errorRate: 0, durationMs };
        await tx.recordRun(run.id, outcome('failed', stats, null, [], reason, code), [], []);
        failed.push(run);
      }
      return failed;
    }),
  );
}
