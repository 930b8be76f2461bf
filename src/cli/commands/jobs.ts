import type { Command } from 'commander';

import type * as AppModule from '../../app/index.js';
import type * as JobsModule from '../../jobs/index.js';
import type * as LoggerModule from '../../observability/index.js';
import type { Config } from '../../config/index.js';
import { loadCliContext, outPalette, type CliIo } from '../context.js';
import { colourEnabled } from '../format.js';
import { renderRun, runExitCode } from '../summary.js';

/**
 * What these commands run on (BullMQ, ioredis, Fastify, the app) is imported when one of them
 * runs: loading it took 0.2 s of every command, a school's nightly `run` included.
 */
async function runtime(): Promise<{
  app: typeof AppModule;
  jobs: typeof JobsModule;
  logger: typeof LoggerModule;
}> {
  const [app, jobs, logger] = await Promise.all([
    import('../../app/index.js'),
    import('../../jobs/index.js'),
    import('../../observability/index.js'),
  ]);
  return { app, jobs, logger };
}

/**
 * Long-running commands (`serve`, `worker`) and the job commands (`trigger`, `schedule show`).
 * What serve and worker run is put together in app/serve.ts. SIGTERM or SIGINT stops taking new
 * jobs, waits for the current run up to ETL_SHUTDOWN_TIMEOUT_MS, then exits; a run cut short
 * publishes nothing (the process exits 1 before anything else closes).
 */
const exitOnShutdownTimeout = (): never => process.exit(1);

/** A start that failed (HTTP refused its port) closes what it opened: the process ends with the error, not idling on Redis. */
const stopAnd =
  (app: AppModule.App) =>
  async (err: unknown): Promise<never> => {
    await app.stop();
    throw err;
  };

/**
 * The logger of the long-running commands: LOG_LEVEL; on a terminal one line of text per entry
 * (coloured unless NO_COLOR), JSON lines otherwise, for whatever collects them.
 */
function serviceLogger(logger: typeof LoggerModule, config: Config, io: CliIo): LoggerModule.Logger {
  return logger.createLogger({ level: config.logLevel, pretty: io.isTTY, colour: colourEnabled(io.isTTY, io.env) });
}

export function registerJobs(program: Command, io: CliIo): void {
  program
    .command('serve')
    .description('run the HTTP API, the nightly scheduler and a worker (in-process scheduling without Redis)')
    .action(async () => {
      const { config } = await loadCliContext(io);
      const {
        app: { assertServeConfig, createApp, startServe, untilSignal },
        logger,
      } = await runtime();
      assertServeConfig(config);
      const app = await createApp(config, { logger: serviceLogger(logger, config, io) });
      await startServe(app, { onShutdownTimeout: exitOnShutdownTimeout }).catch(stopAnd(app));
      await untilSignal(app);
      await app.stop();
    });

  program
    .command('worker')
    .description(
      'run a worker alone, to scale out over more machines (needs Redis); /livez, /readyz and /metrics on HOST:PORT',
    )
    .action(async () => {
      const { config } = await loadCliContext(io);
      const {
        app: { assertWorkerConfig, createApp, startWorkerService, untilSignal },
        logger,
      } = await runtime();
      assertWorkerConfig(config);
      const app = await createApp(config, { logger: serviceLogger(logger, config, io) });
      await startWorkerService(app, { onShutdownTimeout: exitOnShutdownTimeout }).catch(stopAnd(app));
      await untilSignal(app);
      await app.stop();
    });

  program
    .command('trigger')
    .description('queue a run now (without Redis: run it now)')
    .option('--school <id>', 'only this school (default: every school the schedule covers)')
    .option('--force', 'load the file set even if it is the one the school last published')
    .option('--wait', 'wait for the run to finish, print its summary as `run` does and end with its exit code')
    .action(async (opts: { school?: string; force?: boolean; wait?: boolean }) => {
      const { config } = await loadCliContext(io, { schoolId: opts.school });
      const {
        app: { createApp, triggerEtl },
        logger: { createLogger },
      } = await runtime();
      const app = await createApp(config, { logger: createLogger({ level: 'warn' }), waitForRedis: true });
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
        // Each run as `run` prints it, and the exit code `run` would end with: the worst of them.
        const printed = [
          ...outcome.results.map((r) => renderRun(r, outPalette(io))),
          ...outcome.failures.map((f) => `School ${f.school}: job ${f.jobId} failed with no run to show — ${f.reason}`),
        ];
        if (printed.length > 0) io.out(printed.join('\n\n'));
        const codes = [...outcome.results.map((r) => runExitCode(r.status)), ...outcome.failures.map(() => 1)];
        io.setExitCode(Math.max(0, ...codes));
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
        jobs: { createRedis, localTime, nextRunTimes, QUEUE_NAME, registeredSchedule, waitForRedis },
      } = await runtime();
      const { schedule: pattern, timezone } = config.jobs;
      io.out(`schedule: ${pattern} (${timezone})`);
      io.out(
        `schools:  ${config.jobs.schools?.join(', ') ?? `every school in ${config.sourceDirectory ?? 'CASES_DIRECTORY'}`}`,
      );
      if (config.jobs.redisUrl) {
        // Only Redis is asked: showing the schedule opens no database (and so creates none).
        const url = config.jobs.redisUrl;
        const redis = createRedis(url);
        try {
          await waitForRedis(redis, url, config.jobs.redisConnectTimeoutMs);
          const { Queue } = await import('bullmq');
          const queue = new Queue(QUEUE_NAME, { connection: redis, prefix: config.jobs.prefix });
          try {
            const held = await registeredSchedule(queue);
            io.out(
              held
                ? `on Redis: ${held.pattern} (${held.timezone}), next ${held.next?.toISOString() ?? '?'}`
                : 'on Redis: not registered yet (serve registers it)',
            );
          } finally {
            await queue.close();
          }
        } finally {
          redis.disconnect();
        }
      } else {
        io.out('on Redis: no Redis configured; serve schedules in-process');
      }
      io.out('next runs:');
      for (const at of nextRunTimes(pattern, timezone, new Date(), Math.max(1, Number(opts.count) || 7)))
        io.out(`  ${localTime(at, timezone)}  (${at.toISOString()})`);
    });
}
