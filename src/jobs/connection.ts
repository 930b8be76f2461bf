import { Redis } from 'ioredis';
import { coerceError, EtlError } from '../errors/index.js';

/**
 * Redis connections for BullMQ. Workers need `maxRetriesPerRequest: null` (a blocking command
 * must not give up), and every connection retries with a capped backoff instead of crashing.
 */
export function createRedis(url: string, onError: (err: Error) => void = () => undefined): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(times * 200, 5000),
    // How long disconnect() waits for the socket to close before destroying it. A connection that
    // never opened has no close to wait for, and the default 2 s kept a command that had already
    // given up (ETL_REDIS_UNAVAILABLE) alive for that long.
    disconnectTimeout: 200,
  });
  // Connection errors are retried by retryStrategy; without a listener ioredis prints each one.
  redis.on('error', onError);
  return redis;
}

/** A Redis URL as it may be shown: host, port and database, never the user or password. */
export function describeRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return 'redis (URL not shown)';
  }
}

/**
 * Waits until `redis` is connected and ready, for at most `timeoutMs`: a one-off command
 * (`trigger`, `schedule show`) gives up then, where BullMQ's connection would retry forever.
 * Throws ETL_REDIS_UNAVAILABLE naming the URL (without password) and the last error.
 */
export async function waitForRedis(
  redis: Redis,
  url: string,
  timeoutMs: number,
  /** The setting that gave `timeoutMs`, named in the message; null when it is the caller's own. */
  setting: string | null = 'ETL_REDIS_CONNECT_TIMEOUT_MS',
): Promise<void> {
  if (redis.status === 'ready') return;
  let last = '';
  const onError = (err: Error): void => {
    last = err.message;
  };
  redis.on('error', onError);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        redis.off('ready', onReady);
        reject(
          new EtlError(
            'ETL_REDIS_UNAVAILABLE',
            `Redis at ${describeRedisUrl(url)} did not answer within ${timeoutMs} ms${last ? ` (${last})` : ''}${setting ? ` (${setting})` : ''}`,
          ),
        );
      }, timeoutMs);
      const onReady = (): void => {
        clearTimeout(timer);
        resolve();
      };
      redis.once('ready', onReady);
    });
  } finally {
    redis.off('error', onError);
  }
}

/**
 * Logs a Redis connection's state changes once each: lost (with the reason) and back, instead
 * of a line per reconnection attempt. Returns the listener to pass to createRedis.
 */
export function redisStateLogger(
  url: string,
  log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void },
  redis: () => Redis | null,
): (err: Error) => void {
  let down = false;
  let watching = false;
  return (err) => {
    if (down) return;
    down = true;
    log.warn({ redis: describeRedisUrl(url), error: err.message }, 'Redis unavailable; reconnecting');
    const r = redis();
    if (!r || watching) return;
    watching = true;
    r.on('ready', () => {
      if (!down) return;
      down = false;
      log.info({ redis: describeRedisUrl(url) }, 'Redis connection restored');
    });
  };
}

/** errno codes of a connection to Redis lost or refused: the connection retries them by itself. */
const CONNECTION_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/**
 * Whether `err` only says a connection to Redis is down, or `connection` is not ready: what its
 * retries and redisStateLogger already tell, once per loss, where BullMQ repeats it per attempt.
 */
export function isRedisConnectionError(err: Error & { code?: unknown }, connection: Redis): boolean {
  return connection.status !== 'ready' || (typeof err.code === 'string' && CONNECTION_ERRNO.has(err.code));
}

/**
 * BullMQ keeps jobs and schedules as ordinary keys: a Redis that evicts keys under memory pressure
 * can silently lose them. Returns a warning to print when the policy is not `noeviction`.
 */
export async function evictionWarning(redis: Redis): Promise<string | null> {
  try {
    const reply = (await redis.config('GET', 'maxmemory-policy')) as string[];
    const policy = reply[1] ?? 'unknown';
    return policy === 'noeviction'
      ? null
      : `Redis maxmemory-policy is "${policy}", not "noeviction": under memory pressure Redis may evict queued jobs and the nightly schedule. Set maxmemory-policy noeviction.`;
  } catch (err) {
    // Managed Redis services often forbid CONFIG; say we could not tell rather than nothing.
    return `could not read Redis maxmemory-policy (${coerceError(err).message}); make sure it is "noeviction" so queued jobs are never evicted`;
  }
}
