import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

import type { Config } from '../config/index.js';
import { createRedis, evictionWarning, QUEUE_NAME, redisStateLogger, waitForRedis } from '../jobs/index.js';
import { loadLayouts, type LayoutRegistry } from '../layouts/index.js';
import { notifierFor, type Notifier } from '../notify/index.js';
import { createLogger, type Logger } from '../observability/index.js';
import { createStore, type Store } from '../store/index.js';
import { coerceError } from '../errors/index.js';

/**
 * The composition root: builds the store, layouts, logger and (with Redis) the queue once and
 * hands them down. Every resource registers how to close itself; stop() closes them in reverse.
 */
export interface App {
  readonly config: Config;
  readonly logger: Logger;
  readonly store: Store;
  readonly layouts: LayoutRegistry;
  /** Slack, Teams and email, as configured (no channels when none is set). */
  readonly notifier: Notifier;
  /** The queue and its connection, when Redis is configured. */
  readonly queue: Queue | null;
  readonly redis: Redis | null;
  /** Adds a resource to close on stop(), after those registered later. */
  onStop(close: () => Promise<void> | void): void;
  stop(): Promise<void>;
}

export interface CreateAppOptions {
  readonly logger?: Logger;
  /**
   * Wait for Redis (at most ETL_REDIS_CONNECT_TIMEOUT_MS) and fail with ETL_REDIS_UNAVAILABLE:
   * for one-off commands. Without it (serve, worker) the app starts at once and the connection
   * keeps retrying, its losses and returns logged once each.
   */
  readonly waitForRedis?: boolean;
}

export async function createApp(config: Config, options: CreateAppOptions = {}): Promise<App> {
  const logger = options.logger ?? createLogger();
  const closers: Array<() => Promise<void> | void> = [];
  const onStop = (close: () => Promise<void> | void): void => void closers.push(close);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      for (const close of closers.reverse()) {
        try {
          await close();
        } catch (err) {
          logger.warn({ error: coerceError(err).message }, 'a resource failed to close');
        }
      }
    })());

  try {
    let queue: Queue | null = null;
    let redis: Redis | null = null;
    // Redis first: a one-off command that cannot queue gives up before it opens (or creates) the database.
    if (config.jobs.redisUrl) {
      const url = config.jobs.redisUrl;
      // A one-off command reports an unreachable Redis once, as its error; a service logs each loss and return.
      redis = createRedis(url, options.waitForRedis ? undefined : redisStateLogger(url, logger, () => redis));
      const r = redis;
      onStop(() => void r.disconnect());
      if (options.waitForRedis) await waitForRedis(r, url, config.jobs.redisConnectTimeoutMs);
      // Asked once connected: a command sent to a Redis that is down waits for it.
      const warnOnEviction = (): void => void evictionWarning(r).then((warning) => warning && logger.warn(warning));
      if (r.status === 'ready') warnOnEviction();
      else r.once('ready', warnOnEviction);
      queue = new Queue(QUEUE_NAME, { connection: redis, prefix: config.jobs.prefix });
      const q = queue;
      onStop(() => q.close());
    }
    const store = await createStore(config.database, { lockTimeoutMs: config.lockTimeoutMs });
    onStop(() => store.close());
    await store.migrate();
    const layouts = await loadLayouts(config.relationshipsPath, { optional: !config.relationshipsExplicit });
    return { config, logger, store, layouts, notifier: notifierFor(config), queue, redis, onStop, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
