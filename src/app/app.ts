import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

import type { Config } from '../config/index.js';
import { createRedis, evictionWarning, QUEUE_NAME } from '../jobs/index.js';
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

export async function createApp(config: Config, options: { logger?: Logger } = {}): Promise<App> {
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
    const store = await createStore(config.database, { lockTimeoutMs: config.lockTimeoutMs });
    onStop(() => store.close());
    await store.migrate();
    const layouts = await loadLayouts(config.relationshipsPath, { optional: !config.relationshipsExplicit });
    let queue: Queue | null = null;
    let redis: Redis | null = null;
    if (config.jobs.redisUrl) {
      redis = createRedis(config.jobs.redisUrl, (err) =>
        logger.warn({ error: err.message }, 'Redis connection error; retrying'),
      );
      const r = redis;
      onStop(() => void r.disconnect());
      const warning = await evictionWarning(redis);
      if (warning) logger.warn(warning);
      queue = new Queue(QUEUE_NAME, { connection: redis, prefix: config.jobs.prefix });
      const q = queue;
      onStop(() => q.close());
    }
    return { config, logger, store, layouts, notifier: notifierFor(config), queue, redis, onStop, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
