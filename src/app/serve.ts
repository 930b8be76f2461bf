import type { Worker } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';

import { isLoopbackHost, type Config } from '../config/index.js';
import { coerceError, EtlError } from '../errors/index.js';
import { buildProbeServer, buildServer } from '../http/index.js';
import {
  createEtlWorker,
  createRedis,
  describeRedisUrl,
  registerSchedule,
  startInProcessScheduler,
  waitForRedis,
} from '../jobs/index.js';
import type { App } from './app.js';
import { triggerEtl } from './trigger.js';

/**
 * What `serve` and `worker` run, put together once: a worker on the queue, the nightly schedule
 * (on Redis, or in this process without it) and the HTTP server. Each part registers its close
 * with app.onStop, so app.stop() takes them down in reverse: the worker first (it waits for the
 * current run, while /livez still answers), then HTTP, then the queue and the store. The CLI only
 * parses, calls and prints.
 * Neither waits on Redis: HTTP answers from the start (/readyz says why it is not ready) and the
 * queue's work begins when Redis answers.
 */

/** How long `serve` and `worker` wait for Redis before going on without it (at most ETL_REDIS_CONNECT_TIMEOUT_MS). */
const FIRST_CONTACT_MS = 3000;

export interface WorkerStartOptions {
  /**
   * Called when the current run outlives ETL_SHUTDOWN_TIMEOUT_MS during stop, before anything else
   * is closed. The CLI exits the process here, so the run publishes nothing and its job is retried
   * after its lock expires; default: stop goes on closing the rest underneath the run.
   */
  readonly onShutdownTimeout?: () => void;
}

export interface WorkerHandle {
  readonly worker: Worker;
  /** Stops taking jobs and waits for the current run, at most ETL_SHUTDOWN_TIMEOUT_MS; true when it finished. */
  stop(): Promise<boolean>;
}

/** A worker needs Redis; checked before anything is opened. */
export function assertWorkerConfig(config: Config): void {
  if (!config.jobs.redisUrl)
    throw new EtlError('ETL_CONFIG_INVALID', 'a worker needs Redis: set REDIS_URL (or REDIS_HOST and REDIS_PORT)', {
      problems: ['REDIS_URL is not set'],
    });
}

/**
 * serve answers beyond this machine only with sign-in on: with ETL_AUTH left to its default of
 * `none`, a HOST other than loopback is refused (ETL_AUTH_REQUIRED, exit 2) before anything is
 * opened, since anyone on the network could then read the ledger. ETL_AUTH=none set on purpose
 * (a proxy in front that signs people in) is accepted.
 */
export function assertServeConfig(config: Config): void {
  const { host, auth } = config.http;
  if (auth.mode !== 'none' || auth.modeSet || isLoopbackHost(host)) return;
  throw new EtlError(
    'ETL_AUTH_REQUIRED',
    `HOST=${host} listens beyond this machine, but no sign-in is configured: anyone who reaches it could read the ledger. ` +
      'Set ETL_ADMIN_TOKENS (and ETL_VIEWER_TOKENS) or ETL_AUTH=oidc with ETL_OIDC_ISSUER and ETL_OIDC_CLIENT_ID ' +
      '(docs/auth.md), listen on HOST=127.0.0.1, or set ETL_AUTH=none to serve it open on purpose',
  );
}

/**
 * A BullMQ worker for the app's queue, on a connection of its own (a worker blocks on it and must
 * not share the queue's). Its stop is registered with app.onStop; calling it earlier is fine.
 */
export function startWorker(app: App, options: WorkerStartOptions = {}): WorkerHandle {
  assertWorkerConfig(app.config);
  const { queue } = app;
  const { redisUrl, shutdownTimeoutMs, concurrency, prefix } = app.config.jobs;
  // createApp opens a queue whenever Redis is configured; this narrows the types.
  if (!queue || !redisUrl) throw new EtlError('ETL_CONFIG_INVALID', 'the app was built without its queue');
  const connection = createRedis(redisUrl);
  const worker = createEtlWorker({ ...app, queue }, connection);
  let stopping: Promise<boolean> | undefined;
  const stop = (): Promise<boolean> =>
    (stopping ??= (async () => {
      const closed = worker.close().then(() => true);
      const gaveUp = new Promise<boolean>((r) => setTimeout(() => r(false), shutdownTimeoutMs).unref());
      const finished = await Promise.race([closed, gaveUp]);
      if (!finished) {
        app.logger.warn(
          { timeoutMs: shutdownTimeoutMs },
          'the current run did not finish in time; stopping without publishing it (the job is retried after its lock expires)',
        );
        options.onShutdownTimeout?.();
      }
      connection.disconnect();
      return finished;
    })());
  app.onStop(async () => void (await stop()));
  app.logger.info({ concurrency, prefix }, 'worker started');
  logChannels(app);
  return { worker, stop };
}

/**
 * The HTTP server for the app, built apart from listen() so tests can inject(). A trigger queues
 * a run; without a queue the run happens in this process, after the reply.
 */
export function buildAppServer(app: App): FastifyInstance {
  return buildServer(app, {
    trigger: async ({ school, force }) => {
      // Queued work waits for Redis to return: say now that it cannot be queued.
      if (app.queue && app.redis && app.redis.status !== 'ready' && app.config.jobs.redisUrl)
        throw new EtlError(
          'ETL_REDIS_UNAVAILABLE',
          `Redis at ${describeRedisUrl(app.config.jobs.redisUrl)} is not connected (${app.redis.status}): nothing was queued`,
        );
      if (app.queue) {
        const t = await triggerEtl({ app, school, force, trigger: 'api' });
        return { jobId: t.jobs[0]?.jobId ?? null, created: t.jobs[0]?.created ?? false, mode: 'queue' };
      }
      void triggerEtl({ app, school, force, trigger: 'api' }).catch((err: unknown) =>
        app.logger.error({ error: coerceError(err).message }, 'triggered run failed'),
      );
      return { jobId: null, created: true, mode: 'direct' };
    },
  });
}

export interface ServeHandle {
  readonly server: FastifyInstance;
  /** Where HTTP listens, as `host:port` (IPv6 in brackets). */
  readonly address: string;
  /** The worker, once Redis has answered; without Redis runs happen in this process. */
  readonly worker: WorkerHandle | null;
}

/**
 * `serve`: registers the nightly schedule and starts a worker (with Redis) or schedules in this
 * process (without), then listens on ETL_HTTP_HOST:ETL_HTTP_PORT. Stop it with app.stop().
 */
export async function startServe(app: App, options: WorkerStartOptions = {}): Promise<ServeHandle> {
  const { config, logger } = app;
  assertServeConfig(config);
  let worker: WorkerHandle | null = null;
  // HTTP listens first (/livez at once, /readyz saying why it is not ready yet), then Redis is
  // given its first few seconds; on stop the worker drains before HTTP closes.
  const server = buildAppServer(app);
  const address = await listen(app, server, { dashboard: true });
  if (app.queue && app.redis && config.jobs.redisUrl) {
    const queue = app.queue;
    await whenRedisAnswers(app, app.redis, config.jobs.redisUrl, {
      later: 'the nightly schedule is registered and jobs are taken once it answers',
      failed: 'could not register the nightly schedule',
      begin: async () => {
        const s = await registerSchedule(queue, config.jobs);
        logger.info(
          { pattern: s.pattern, timezone: s.timezone, next: s.next?.toISOString() },
          'nightly schedule registered',
        );
        worker = startWorker(app, options);
      },
    });
  } else {
    const scheduler = startInProcessScheduler(app, logger);
    app.onStop(() => scheduler.stop());
    logChannels(app);
    logger.warn(
      { pattern: config.jobs.schedule, timezone: config.jobs.timezone, next: scheduler.next().toISOString() },
      'no Redis configured: scheduling in this process (one process only; set REDIS_URL to use the queue)',
    );
  }
  return {
    server,
    address,
    get worker() {
      return worker;
    },
  };
}

/**
 * `worker`: takes jobs from the queue once Redis answers, and answers /livez, /readyz and /metrics
 * on HOST:PORT from the start, as serve does (buildProbeServer: the dashboard and the API stay with
 * serve). It listens first, since nothing on its HTTP waits for the worker; so app.stop() closes
 * the worker (waiting for its run) before HTTP, and /livez answers while the run drains.
 */
export async function startWorkerService(app: App, options: WorkerStartOptions = {}): Promise<ServeHandle> {
  assertWorkerConfig(app.config);
  const { redis } = app;
  const url = app.config.jobs.redisUrl;
  // createApp opens the connection whenever Redis is configured; this narrows the types.
  if (!redis || !url) throw new EtlError('ETL_CONFIG_INVALID', 'the app was built without its queue');
  const server = buildProbeServer(app);
  const address = await listen(app, server, { dashboard: false });
  let worker: WorkerHandle | null = null;
  await whenRedisAnswers(app, redis, url, {
    later: 'jobs are taken once it answers',
    failed: 'could not start taking jobs',
    begin: async () => {
      worker = startWorker(app, options);
    },
  });
  return {
    server,
    address,
    get worker() {
      return worker;
    },
  };
}

/**
 * Calls `begin` once Redis answers: now, when it does within FIRST_CONTACT_MS, else when the
 * connection (which keeps retrying) is ready. Until then nothing waits: HTTP answers, /readyz says
 * why it is not ready, and the connection's losses and returns are logged once each (createApp's
 * redisStateLogger) besides the one line said here.
 */
async function whenRedisAnswers(
  app: App,
  redis: Redis,
  url: string,
  step: { readonly later: string; readonly failed: string; readonly begin: () => Promise<void> },
): Promise<void> {
  try {
    // Its own short wait, not ETL_REDIS_CONNECT_TIMEOUT_MS: the message must not name that setting.
    await waitForRedis(redis, url, Math.min(app.config.jobs.redisConnectTimeoutMs, FIRST_CONTACT_MS), null);
  } catch (err) {
    if (!(err instanceof EtlError) || err.code !== 'ETL_REDIS_UNAVAILABLE') throw err;
    app.logger.warn(
      { redis: describeRedisUrl(url), error: err.message },
      `Redis unavailable: HTTP is up; ${step.later}`,
    );
    const onReady = (): void =>
      void step.begin().catch((e: unknown) => app.logger.error({ error: coerceError(e).message }, step.failed));
    redis.once('ready', onReady);
    app.onStop(() => void redis.off('ready', onReady));
    return;
  }
  await step.begin();
}

/** Why listen() was refused, by errno: each is a setting to correct, not a failure to retry. */
const LISTEN_REFUSED: Readonly<Record<string, string>> = {
  EADDRINUSE: 'another process is listening on that port (serve and each worker on one machine need a PORT each)',
  EACCES: 'this user may not listen on that port (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'HOST is not an address of this machine',
  ENOTFOUND: 'HOST is not a name this machine can resolve',
};

/** Listens on HOST:PORT, closing with the app, and says where: `host:port` (IPv6 in brackets). */
async function listen(app: App, server: FastifyInstance, serves: { readonly dashboard: boolean }): Promise<string> {
  const { config, logger } = app;
  const { port, host } = config.http;
  try {
    await server.listen({ port, host });
  } catch (err) {
    const why = LISTEN_REFUSED[(err as NodeJS.ErrnoException).code ?? ''];
    if (why === undefined) throw err;
    throw new EtlError('ETL_HTTP_LISTEN_FAILED', `HTTP cannot listen on ${host}:${port}: ${why}`, { cause: err });
  }
  app.onStop(() => server.close());
  const bound = server.server.address();
  const address =
    typeof bound === 'string'
      ? bound
      : `${bound?.family === 'IPv6' ? `[${bound.address}]` : bound?.address}:${bound?.port}`;
  const hosts = config.http.allowedHosts;
  logger.info(
    { address, ...(serves.dashboard ? { dashboard: `http://${address}/dashboard` } : {}), allowedHosts: hosts ?? '*' },
    'HTTP listening',
  );
  const everywhere = config.http.host === '0.0.0.0' || config.http.host === '::';
  if (hosts !== null && everywhere && config.http.publicUrl === null) {
    // Listening everywhere but answering only loopback names: a request by this machine's name or address gets 421.
    logger.warn(
      { allowedHosts: hosts },
      'HTTP answers only these Host names; set ETL_ALLOWED_HOSTS or ETL_PUBLIC_URL to be reached by another',
    );
  }
  return address;
}

/** Resolves with the signal's name when SIGTERM or SIGINT arrives; the caller then stops the app. */
export function untilSignal(app: App): Promise<'SIGTERM' | 'SIGINT'> {
  return new Promise((resolve) => {
    const onSignal = (signal: 'SIGTERM' | 'SIGINT'): void => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      app.logger.info({ signal }, 'shutting down: no new jobs, waiting for the current run');
      resolve(signal);
    };
    const onTerm = (): void => onSignal('SIGTERM');
    const onInt = (): void => onSignal('SIGINT');
    process.once('SIGTERM', onTerm);
    process.once('SIGINT', onInt);
  });
}

/** Says at start who will be told of failures, or that nobody will: a silent failure is the one to fear. */
function logChannels(app: App): void {
  if (app.notifier.channels.length === 0)
    app.logger.warn(
      'no notification channel is configured (SLACK_WEBHOOK_URL, TEAMS_WEBHOOK_URL, ETL_NOTIFICATION_EMAIL): ' +
        'failed runs are only in the ledger, the logs and /metrics',
    );
  else app.logger.info({ channels: app.notifier.channels, on: app.config.notifications.on }, 'notifications on');
}
