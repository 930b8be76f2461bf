import type { Command } from 'commander';

import type * as AppModule from '../../app/index.js';
import { EtlError } from '../../errors/index.js';
import type * as HttpModule from '../../http/index.js';
import type * as JobsModule from '../../jobs/index.js';
import type * as LoggerModule from '../../observability/logger.js';
import { loadCliContext, type CliIo } from '../context.js';

/**
 * What these commands run on (BullMQ, ioredis, Fastify, the app) is imported when one of them
 * runs: loading it took 0.2 s of every command, a school's nightly `run` included.
 */
async function runtime(): Promise<{
  app: typeof AppModule;
  http: typeof HttpModule;
  jobs: typeof JobsModule;
  logger: typeof LoggerModule;
}> {
  const [app, http, jobs, logger] = await Promise.all([
    import('../../app/index.js'),
    import('../../http/index.js'),
    import('../../jobs/index.js'),
    import('../../observability/logger.js'),
  ]);
  return { app, http, jobs, logger };
}

/**
 * Long-running commands (`serve`, `worker`) and the job commands (`trigger`, `schedule show`).
 * SIGTERM or SIGINT stops taking new jobs, waits for the current run up to
 * ETL_SHUTDOWN_TIMEOUT_MS, then exits; a run cut short publishes nothing.
 */

function startWorker(app: AppModule.App, { createEtlWorker, createRedis }: typeof JobsModule): void {
  if (!app.queue || !app.config.jobs.redisUrl) return;
  const ctx: JobsModule.JobContext = {
    config: app.config,
    store: app.store,
    layouts: app.layouts,
    logger: app.logger,
    notifier: app.notifier,
    queue: app.queue,
  };
  // A worker blocks on its own connection; it must not share the queue's.
  const connection = createRedis(app.config.jobs.redisUrl);
  const worker = createEtlWorker(ctx, connection);
  app.onStop(() => void connection.disconnect());
  app.onStop(async () => {
    const timeout = app.config.jobs.shutdownTimeoutMs;
    const closed = worker.close().then(() => true);
    const gaveUp = new Promise<boolean>((r) => setTimeout(() => r(false), timeout).unref());
    if (!(await Promise.race([closed, gaveUp]))) {
      app.logger.warn(
        { timeoutMs: timeout },
        'the current run did not finish in time; exiting without publishing it (the job is retried after its lock expires)',
      );
      process.exit(1);
    }
  });
  app.logger.info({ concurrency: app.config.jobs.concurrency, prefix: app.config.jobs.prefix }, 'worker started');
  logChannels(app);
}

/** Says at start who will be told of failures, or that nobody will: a silent failure is the one to fear. */
function logChannels(app: AppModule.App): void {
  if (app.notifier.channels.length === 0)
    app.logger.warn(
      'no notification channel is configured (SLACK_WEBHOOK_URL, TEAMS_WEBHOOK_URL, ETL_NOTIFICATION_EMAIL): failed runs are only in the ledger, the logs and /metrics',
    );
  else app.logger.info({ channels: app.notifier.channels, on: app.config.notifications.on }, 'notifications on');
}

/** Resolves when SIGTERM or SIGINT arrives, then stops the app. */
async function runUntilSignal(app: AppModule.App): Promise<void> {
  await new Promise<void>((resolve) => {
    const onSignal = (signal: string): void => {
      app.logger.info({ signal }, 'shutting down: no new jobs, waiting for the current run');
      resolve();
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
  });
  await app.stop();
}

export function registerJobs(program: Command, io: CliIo): void {
  program
    .command('serve')
    .description('run the HTTP API, the nightly scheduler and a worker (in-process scheduling without Redis)')
    .action(async () => {
      const { config } = await loadCliContext(io);
      const {
        app: { createApp },
        http: { buildServer },
        jobs,
        logger: { createLogger },
      } = await runtime();
      const { registerSchedule, startInProcessScheduler } = jobs;
      const { triggerEtl } = await import('../../app/index.js');
      const app = await createApp(config, { logger: createLogger() });
      let inProcess: ReturnType<typeof startInProcessScheduler> | null = null;
      if (app.queue) {
        const s = await registerSchedule(app.queue, config.jobs);
        app.logger.info(
          { pattern: s.pattern, timezone: s.timezone, next: s.next?.toISOString() },
          'nightly schedule registered',
        );
        startWorker(app, jobs);
      } else {
        inProcess = startInProcessScheduler(app, app.logger);
        logChannels(app);
        const scheduler = inProcess;
        app.onStop(() => scheduler.stop());
        app.logger.warn(
          { pattern: config.jobs.schedule, timezone: config.jobs.timezone, next: inProcess.next().toISOString() },
          'no Redis configured: scheduling in this process (one process only; set REDIS_URL to use the queue)',
        );
      }
      const server = buildServer(app, {
        trigger: async ({ school, force }) => {
          if (app.queue) {
            const t = await triggerEtl({ app, school, force, trigger: 'api' });
            return { jobId: t.jobs[0]?.jobId ?? null, created: t.jobs[0]?.created ?? false, mode: 'queue' };
          }
          // Without a queue the run happens here, after the reply.
          void triggerEtl({ app, school, force, trigger: 'api' }).catch((err: unknown) =>
            app.logger.error({ error: (err as Error).message }, 'triggered run failed'),
          );
          return { jobId: null, created: true, mode: 'direct' };
        },
      });
      await server.listen({ port: config.http.port, host: config.http.host });
      app.onStop(() => server.close());
      const address = server.server.address();
      const where =
        typeof address === 'string'
          ? address
          : `${address?.family === 'IPv6' ? `[${address.address}]` : address?.address}:${address?.port}`;
      const hosts = config.http.allowedHosts;
      app.logger.info(
        { address: where, dashboard: `http://${where}/dashboard`, allowedHosts: hosts ?? '*' },
        'HTTP listening',
      );
      if (
        hosts !== null &&
        (config.http.host === '0.0.0.0' || config.http.host === '::') &&
        config.http.publicUrl === null
      ) {
        // Listening everywhere but answering only loopback names: a request by this machine's name or address gets 421.
        app.logger.warn(
          { allowedHosts: hosts },
          'HTTP answers only these Host names; set ETL_ALLOWED_HOSTS or ETL_PUBLIC_URL to be reached by another',
        );
      }
      await runUntilSignal(app);
    });

  program
    .command('worker')
    .description('run a worker alone, to scale out over more machines (needs Redis)')
    .action(async () => {
      const { config } = await loadCliContext(io);
      if (!config.jobs.redisUrl)
        throw new EtlError('ETL_CONFIG_INVALID', 'a worker needs Redis: set REDIS_URL (or REDIS_HOST and REDIS_PORT)', {
          problems: ['REDIS_URL is not set'],
        });
      const {
        app: { createApp },
        jobs,
        logger: { createLogger },
      } = await runtime();
      const app = await createApp(config, { logger: createLogger() });
      startWorker(app, jobs);
      await runUntilSignal(app);
    });

  program
    .command('trigger')
    .description('queue a run now (without Redis: run it now)')
    .option('--school <id>', 'only this school (default: every school the schedule covers)')
    .option('--force', 'load the file set even if it is the one the school last published')
    .option('--wait', 'wait for the run to finish and print its result')
    .action(async (opts: { school?: string; force?: boolean; wait?: boolean }) => {
      const { config } = await loadCliContext(io, { schoolId: opts.school });
      const {
        app: { createApp },
        app: { triggerEtl },
        logger: { createLogger },
      } = await runtime();
      const app = await createApp(config, { logger: createLogger({ level: 'warn' }) });
      try {
        const outcome = await triggerEtl({
          app,
          school: opts.school ?? null,
          force: opts.force ?? false,
          wait: opts.wait ?? false,
          trigger: 'manual',
        });
        if (outcome.mode === 'direct') io.out('No Redis configured: the run happened here.');
        for (const j of outcome.jobs)
          io.out(
            `school ${j.school}: job ${j.jobId}${j.created ? ' queued' : ' (a run of this school was already waiting)'}`,
          );
        for (const r of outcome.results)
          io.out(`run ${r.runId ?? '-'}: ${r.status}${'reason' in r && r.reason ? ` — ${r.reason}` : ''}`);
        if (outcome.results.some((r) => r.status === 'failed')) io.setExitCode(1);
      } finally {
        await app.stop();
      }
    });

  const schedule = program.command('schedule').description('the nightly schedule');
  schedule
    .command('show')
    .description('print the schedule, what Redis holds, and the next run times')
    .option('--count <n>', 'how many next run times', '7')
    .action(async (opts: { count: string }) => {
      const { config } = await loadCliContext(io);
      const {
        app: { createApp },
        jobs: { localTime, nextRunTimes, registeredSchedule },
        logger: { createLogger },
      } = await runtime();
      const { schedule: pattern, timezone } = config.jobs;
      io.out(`schedule: ${pattern} (${timezone})`);
      io.out(
        `schools:  ${config.jobs.schools?.join(', ') ?? `every school in ${config.sourceDirectory ?? 'CASES_DIRECTORY'}`}`,
      );
      if (config.jobs.redisUrl) {
        const app = await createApp(config, { logger: createLogger({ level: 'error' }) });
        try {
          const held = app.queue ? await registeredSchedule(app.queue) : null;
          io.out(
            held
              ? `on Redis: ${held.pattern} (${held.timezone}), next ${held.next?.toISOString() ?? '?'}`
              : 'on Redis: not registered yet (serve registers it)',
          );
        } finally {
          await app.stop();
        }
      } else {
        io.out('on Redis: no Redis configured; serve schedules in-process');
      }
      io.out('next runs:');
      for (const at of nextRunTimes(pattern, timezone, new Date(), Math.max(1, Number(opts.count) || 7)))
        io.out(`  ${localTime(at, timezone)}  (${at.toISOString()})`);
    });
}
