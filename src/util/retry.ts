import { setTimeout as sleep } from 'node:timers/promises';

import type { RetryConfig } from '../config/index.js';

/**
 * Retry with exponential backoff, for infrastructure that can fail for a moment: a share that is
 * remounting, a file locked by the exporter. Bad data is never retried: `isRetryable` decides,
 * and by default only operating-system errors with a transient code are.
 */

/** errno codes worth another try: the resource may be back in a moment. */
const TRANSIENT_ERRNO = new Set([
  'EAGAIN',
  'EBUSY',
  'EIO',
  'EMFILE',
  'ENFILE',
  'ETIMEDOUT',
  'ECONNRESET',
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ESTALE',
  'ENOENT',
  'EACCES',
  'EPERM',
]);

export function isTransientIoError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && TRANSIENT_ERRNO.has(code);
}

export interface RetryOptions extends RetryConfig {
  /** Whether this error may go away; default: transient I/O errors. */
  readonly isRetryable?: (err: unknown) => boolean;
  /** The wait before the next try, given the error and the backoff's own delay (e.g. to honour a server's Retry-After). */
  readonly delayFor?: (err: unknown, delayMs: number) => number;
  /** Told before each wait, e.g. to log it. */
  readonly onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/** Calls `fn` up to `attempts` times, waiting delayMs, delayMs×factor, … between tries. */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const retryable = options.isRetryable ?? isTransientIoError;
  let delay = options.delayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= options.attempts || !retryable(err)) throw err;
      const wait = options.delayFor?.(err, delay) ?? delay;
      options.onRetry?.(err, attempt, wait);
      await sleep(wait);
      delay = Math.round(delay * options.factor);
    }
  }
}
