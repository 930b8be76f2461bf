import { loadEnvironmentConfig } from '../config/index.js';
import { EtlError } from '../errors/index.js';
import { enqueueRun, registerSchedule, scheduledSchools, waitForRunJob, type TriggerResult } from '../jobs/index.js';
import { createLogger } from '../observability/index.js';
import { runEtl, type EtlResult, type RunReport } from '../pipeline/index.js';
import { createApp, type App } from './app.js';

/**
 * The seed's job API over an App: `triggerEtl` queues a run (or, without Redis, runs it now) and
 * `scheduleNightlyEtl` registers the nightly schedule. It lives beside the composition root, not in
 * jobs/, because it builds an App when given none: jobs/ knows nothing of the app that runs it.
 */

export interface TriggerOptions {
  /** A running app to use; default one built from the environment for this call. */
  readonly app?: App;
  /** One school; default every school the schedule covers. */
  readonly school?: string | null;
  readonly force?: boolean;
  /** Wait for the job(s) to finish and return their results. */
  readonly wait?: boolean;
  readonly trigger?: 'manual' | 'api';
}

export interface TriggerOutcome {
  readonly mode: 'queue' | 'direct';
  readonly jobs: ReadonlyArray<TriggerResult & { readonly school: string }>;
  /** With `wait` (always, without Redis): each run's result, as `run` prints it. */
  readonly results: readonly RunReport[];
  /** With `wait`: the jobs that failed with no run to report (the database down through every attempt), and why. */
  readonly failures: ReadonlyArray<{ readonly school: string; readonly jobId: string; readonly reason: string }>;
}

/** Queues a run of one school (or of every school the schedule covers) and returns the job ids. */
export async function triggerEtl(options: TriggerOptions = {}): Promise<TriggerOutcome> {
  return withApp(options.app, (app) => trigger(app, options));
}

/** Runs `fn` with the given app, or with one made from the environment and stopped afterwards. */
async function withApp<T>(given: App | undefined, fn: (app: App) => Promise<T>): Promise<T> {
  if (given) return fn(given);
  const app = await createApp(loadEnvironmentConfig(), { logger: createLogger({ level: 'warn' }), waitForRedis: true });
  try {
    return await fn(app);
  } finally {
    await app.stop();
  }
}

async function trigger(app: App, options: TriggerOptions): Promise<TriggerOutcome> {
  const schools = options.school ? [options.school] : await scheduledSchools(app);
  if (!app.queue) {
    const results: EtlResult[] = [];
    for (const school of schools)
      results.push(
        await runEtl({
          config: app.config,
          store: app.store,
          layouts: app.layouts,
          notifier: app.notifier,
          school,
          force: options.force ?? false,
          trigger: options.trigger ?? 'manual',
        }),
      );
    return { mode: 'direct', jobs: [], results, failures: [] };
  }
  const queue = app.queue;
  const jobs: Array<TriggerResult & { school: string }> = [];
  for (const school of schools) {
    jobs.push({
      school,
      ...(await enqueueRun(queue, app.config.jobs, {
        school,
        force: options.force ?? false,
        trigger: options.trigger ?? 'manual',
      })),
    });
  }
  if (!options.wait) return { mode: 'queue', jobs, results: [], failures: [] };
  const noWorkerMs = app.config.jobs.redisConnectTimeoutMs;
  const settled = await Promise.all(
    jobs.map(async (j) => ({ ...j, ...(await waitForRunJob(queue, j.jobId, { noWorkerMs })) })),
  );
  return {
    mode: 'queue',
    jobs,
    results: settled.flatMap((s) => (s.report ? [s.report] : [])),
    failures: settled.flatMap((s) =>
      s.report
        ? []
        : [{ school: s.school, jobId: s.jobId, reason: s.failedReason ?? 'the job ended without a report' }],
    ),
  };
}

/** Registers (or replaces) the nightly schedule on Redis (ETL_SCHEDULE in ETL_TIMEZONE). */
export async function scheduleNightlyEtl(
  options: { app?: App } = {},
): Promise<{ id: string; pattern: string; timezone: string; next: Date | null }> {
  return withApp(options.app, async (app) => {
    if (!app.queue)
      throw new EtlError(
        'ETL_CONFIG_INVALID',
        'scheduleNightlyEtl needs Redis (REDIS_URL or REDIS_HOST); without it, `cases-etl serve` schedules in-process',
        { problems: ['REDIS_URL is not set'] },
      );
    return registerSchedule(app.queue, app.config.jobs);
  });
}
