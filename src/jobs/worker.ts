import { UnrecoverableError, Worker, type Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';

import type { Config } from '../config/index.js';
import { discoverSource } from '../extract/index.js';
import type { LayoutRegistry } from '../layouts/index.js';
import {
  jobFailureNotification,
  nightNotification,
  type Delivery,
  type Notification,
  type Notifier,
} from '../notify/index.js';
import type { Logger } from '../observability/index.js';
import { failAbandonedRuns, runEtl, type EtlResult } from '../pipeline/index.js';
import type { RunRecord, Store } from '../store/index.js';
import { isRedisConnectionError } from './connection.js';
import { isRetryableError } from './errors.js';
import {
  NIGHTLY_JOB,
  QUEUE_NAME,
  RUN_JOB,
  runDedupId,
  type NightlyJobData,
  type RunJobData,
  type RunJobReport,
} from './names.js';
import { jobOptions, localDate } from './schedule.js';
import { coerceError } from '../errors/index.js';

/** What a job handler gets: the pieces the composition root built, never globals. */
export interface JobContext {
  readonly config: Config;
  readonly store: Store;
  readonly layouts: LayoutRegistry;
  readonly logger: Logger;
  readonly notifier: Notifier;
  readonly queue: Queue;
}

/** The value a `run` job returns: the run's summary, without personal data. */
export interface RunJobResult {
  readonly runId: number | null;
  readonly school: string;
  readonly status: EtlResult['status'];
  readonly stats: EtlResult['stats'];
  readonly reason: string | null;
}

/** Schools a scheduled night covers: ETL_SCHOOLS, else every school with files in the export folder. */
export async function scheduledSchools(ctx: Pick<JobContext, 'config' | 'layouts'>): Promise<string[]> {
  if (ctx.config.jobs.schools) return [...ctx.config.jobs.schools];
  const source = ctx.config.sourceDirectory;
  if (!source) return ctx.config.schoolId ? [ctx.config.schoolId] : [];
  const discovery = await discoverSource(source, ctx.layouts, {
    schoolId: ctx.config.schoolId,
    requiredTables: ctx.config.requiredTables,
    stableMs: 0,
    stableTimeoutMs: 0,
    ignorePaths: [ctx.config.relationshipsPath],
  });
  return discovery.fileSets.map((s) => s.school);
}

/**
 * The nightly job fans out into one run job per school. The job id names the school and the
 * local night, so if the schedule ever fires twice in one night (a daylight-saving change, a
 * duplicate scheduler) the second fire adds nothing.
 */
async function fanOut(ctx: JobContext, job: Job<NightlyJobData>): Promise<{ night: string; schools: string[] }> {
  const firedAt = new Date(job.timestamp);
  const night = localDate(firedAt, ctx.config.jobs.timezone);
  let schools: string[];
  try {
    schools = await scheduledSchools(ctx);
  } catch (err) {
    // Retried like any infrastructure failure; told once, when the last attempt fails too.
    if (isLastAttempt(job)) await tellNightStartedNothing(ctx, night, coerceError(err).message);
    throw err;
  }
  if (schools.length === 0)
    await tellNightStartedNothing(
      ctx,
      night,
      `no CASES21 files were found in the export folder${ctx.config.sourceDirectory ? '' : ' (CASES_DIRECTORY is not set and neither is ETL_SCHOOLS)'}`,
    );
  for (const school of schools) {
    const data: RunJobData = { school, force: false, trigger: 'schedule', night };
    await ctx.queue.add(RUN_JOB, data, {
      ...jobOptions(ctx.config.jobs),
      jobId: `nightly-${school}-${night}`,
      deduplication: { id: runDedupId(school) },
    });
  }
  ctx.logger.info({ night, schools: schools.length }, 'nightly run fanned out');
  return { night, schools };
}

/**
 * One school's run. A failed run (bad data, a tripped guard rail) is recorded in the ledger and
 * fails the job once with UnrecoverableError: a bad file will not get better by retrying.
 * Infrastructure failures are thrown as they are, and BullMQ retries them with backoff.
 */
async function runSchoolJob(ctx: JobContext, job: Job<RunJobData>): Promise<RunJobResult> {
  const { school, force } = job.data;
  // From now on a new trigger for this school queues a fresh run rather than joining this one.
  await ctx.queue.removeDeduplicationKey(runDedupId(school));
  const log = ctx.logger.child({ jobId: job.id, school, attempt: job.attemptsMade + 1 });
  log.info('run started');
  let result: EtlResult;
  // The last file's progress, kept in the report that ends it.
  let progress: object = { school };
  try {
    result = await runEtl({
      config: ctx.config,
      store: ctx.store,
      layouts: ctx.layouts,
      school,
      force,
      notifier: ctx.notifier,
      trigger: job.data.trigger,
      jobId: job.id ?? null,
      onProgress: (e) => {
        if (e.kind !== 'file-done') return;
        progress = {
          school,
          file: e.file,
          table: e.table,
          done: e.index + 1,
          total: e.total,
          rows: e.rows,
          rejected: e.rejected,
        };
        void job.updateProgress(progress);
      },
    });
  } catch (err) {
    if (!isRetryableError(err) || isLastAttempt(job))
      await tellRunCouldNotRun(ctx, {
        school,
        attempts: job.attemptsMade + 1,
        error: coerceError(err).message,
        jobId: job.id ?? null,
      });
    if (!isRetryableError(err)) throw new UnrecoverableError(`${coerceError(err).message}`);
    log.warn(
      { err: { message: coerceError(err).message, code: (err as { code?: unknown }).code } },
      'run failed on infrastructure; it will be retried',
    );
    throw err;
  }
  const run = result.runs[0];
  const summary: RunJobResult = {
    runId: result.runId,
    school,
    status: result.status,
    stats: result.stats,
    reason: run?.reason ?? result.errors[0] ?? null,
  };
  log.info({ runId: result.runId, status: result.status }, 'run finished');
  const { runId, status, stats, errors, runs, notices } = result;
  const report: RunJobReport = { ...progress, school, report: { runId, status, stats, errors, runs, notices } };
  // Told before the job settles, so whoever waits finds it there; the run stands if Redis drops it.
  await job
    .updateProgress(report)
    .catch((err: unknown) => log.warn({ error: coerceError(err).message }, "could not report the run's summary"));
  logFailedDeliveries(log, result.notifications);
  if (result.status === 'failed')
    throw new UnrecoverableError(`run ${result.runId} failed: ${summary.reason ?? 'see the run ledger'}`);
  return summary;
}

/**
 * A run that could not run at all (the database or the share down through every attempt, a broken
 * relationships.json) recorded nothing a person will see: the channels hear of it.
 */
export function tellRunCouldNotRun(
  ctx: Pick<JobContext, 'notifier' | 'logger'>,
  input: Parameters<typeof jobFailureNotification>[0],
): Promise<void> {
  return tell(ctx, jobFailureNotification(input), { school: input.school });
}

/**
 * A scheduled night that starts no run at all would otherwise be silent: no run, no ledger row,
 * nothing for a person to notice until the intranet is a day stale.
 */
export function tellNightStartedNothing(
  ctx: Pick<JobContext, 'notifier' | 'logger' | 'config'>,
  night: string,
  problem: string,
): Promise<void> {
  ctx.logger.warn({ night, problem }, 'the scheduled night started no run');
  return tell(ctx, nightNotification({ night, folder: ctx.config.sourceDirectory, problem }), { night });
}

async function tell(
  ctx: Pick<JobContext, 'notifier' | 'logger'>,
  n: Notification,
  context: Record<string, string>,
): Promise<void> {
  if (ctx.notifier.channels.length === 0 || !ctx.notifier.wants(n)) return;
  logFailedDeliveries(ctx.logger.child(context), await ctx.notifier.send(n));
}

/** A warning per delivery that failed (channel and why, never the webhook URL): the run's outcome stands. */
export function logFailedDeliveries(logger: Logger, deliveries: ReadonlyArray<Delivery & { school?: string }>): void {
  for (const d of deliveries.filter((x) => !x.ok))
    logger.warn(
      { ...(d.school ? { school: d.school } : {}), channel: d.channel, attempts: d.attempts, error: d.error },
      'notification failed',
    );
}

/**
 * How often a job's worker may stop mid-run (killed, out of memory, its machine gone) before the
 * job is given up (BullMQ's maxStalledCount): once, and another worker runs it again; twice, and a
 * run that keeps killing its worker is not tried a third time.
 */
const MAX_STALLED_COUNT = 1;

/**
 * A job given up because its worker stopped mid-run too often: BullMQ fails it in the next worker
 * that takes it, without running it, and nobody would hear of it. The channels are told as of a
 * job that gave up after its retries, and the run the dead worker left running is marked failed,
 * naming the job (the school's next run would mark it too, but says only that it was interrupted).
 */
async function tellJobStalled(ctx: JobContext, job: Job): Promise<void> {
  const jobId = job.id ?? 'without an id';
  const stopped =
    `the worker running job ${jobId} stopped before it finished, ${job.stalledCounter} times ` +
    '(killed, out of memory, or its machine restarted), so the job was given up';
  if (job.name === NIGHTLY_JOB) {
    const night = localDate(new Date(job.timestamp), ctx.config.jobs.timezone);
    const problem = `ETL_JOB_STALLED: ${stopped}; the schools' runs it had queued before that still run`;
    ctx.logger.error({ night, code: 'ETL_JOB_STALLED' }, 'the nightly job was given up while queueing schools');
    const message = nightNotification({ night, folder: ctx.config.sourceDirectory, problem, partial: true });
    return tell(ctx, message, { night });
  }
  if (job.name !== RUN_JOB) return;
  const { school } = job.data as RunJobData;
  const log = ctx.logger.child({ jobId, school });
  let runs: RunRecord[] = [];
  try {
    runs = await failAbandonedRuns(ctx.config, ctx.store, {
      school,
      jobId,
      code: 'ETL_RUN_INTERRUPTED',
      reason: `interrupted: ${stopped} (ETL_JOB_STALLED); nothing it did was published`,
    });
  } catch (err) {
    log.warn({ error: coerceError(err).message }, "could not mark the stalled job's run failed in the ledger");
  }
  const ids = runs.map((r) => r.id).sort((a, b) => a - b);
  log.error(
    { code: 'ETL_JOB_STALLED', stalled: job.stalledCounter, runs: ids },
    'job given up: its worker stopped mid-run',
  );
  const marked =
    ids.length === 0 ? '' : `; ${ids.length === 1 ? 'run' : 'runs'} ${ids.join(', ')} marked failed in the ledger`;
  await tellRunCouldNotRun(ctx, {
    school,
    // The last start was the worker that gave it up, without running it.
    attempts: Math.max(1, job.attemptsStarted - 1),
    error: `ETL_JOB_STALLED: ${stopped}${marked}`,
    jobId: job.id ?? null,
  });
}

/** Whether this attempt is the job's last: BullMQ will not retry it if it fails. */
function isLastAttempt(job: Job): boolean {
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

export interface WorkerOptions {
  /** Start taking jobs at once (default true). */
  readonly autorun?: boolean;
}

/** A BullMQ worker for the `cases-etl` queue. */
export function createEtlWorker(ctx: JobContext, connection: Redis, options: WorkerOptions = {}): Worker {
  const jobs = ctx.config.jobs;
  const worker = new Worker(
    QUEUE_NAME,
    async (job: Job) => {
      if (job.name === NIGHTLY_JOB) return fanOut(ctx, job as Job<NightlyJobData>);
      if (job.name === RUN_JOB) return runSchoolJob(ctx, job as Job<RunJobData>);
      throw new UnrecoverableError(`unknown job ${job.name}`);
    },
    {
      connection,
      prefix: jobs.prefix,
      concurrency: jobs.concurrency,
      autorun: options.autorun ?? true,
      // The lock is renewed every lockDuration/2 while the event loop turns; parsing yields every
      // 32 KiB read, so a long file never makes a live job look stalled. A dead worker's job is taken
      // back after lockMs and retried by another worker.
      lockDuration: jobs.lockMs,
      stalledInterval: jobs.lockMs,
      maxStalledCount: MAX_STALLED_COUNT,
    },
  );
  worker.on('failed', (job, err) => {
    ctx.logger.warn(
      { jobId: job?.id, name: job?.name, attemptsMade: job?.attemptsMade, error: err.message },
      'job failed',
    );
    // Only a job that stalled too often fails with its count past the limit: it never runs again.
    if (job && job.stalledCounter > MAX_STALLED_COUNT)
      void tellJobStalled(ctx, job).catch((e: unknown) =>
        ctx.logger.error({ jobId: job.id, error: coerceError(e).message }, 'could not tell of a stalled job'),
      );
  });
  worker.on('error', (err) => {
    // Each reconnection attempt of the worker's two connections is an error here; the app's own
    // connection logs the loss and the return once each (redisStateLogger).
    if (isRedisConnectionError(err, connection)) return;
    ctx.logger.error({ error: err.message }, 'worker error');
  });
  return worker;
}
