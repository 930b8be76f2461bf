import { Redis } from 'ioredis';
import { coerceError } from '../errors/index.js';

/**
 * Redis connections for BullMQ. Workers need `maxRetriesPerRequest: null` (a blocking command
 * must not give up), and every connection retries with a capped backoff instead of crashing.
 */
export function createRedis(url: string, onError: (err: Error) => void = () => undefined): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(times * 200, 5000),
  });
  // Connection errors are retried by retryStrategy; without a listener ioredis prints each one.
  redis.on('error', onError);
  return redis;
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
