import { describeFailure } from '../errors/index.js';
import { storeFailureKind } from '../store/index.js';

/**
 * Which failures a job retries: those `describeFailure` knows to clear up on their own (the
 * database or the share down, another run holding the school). Configuration, layouts and
 * anything nobody foresaw (ETL_INTERNAL) fail the job once; bad data never throws at all.
 */
export function isRetryableError(err: unknown): boolean {
  return describeFailure(err, storeFailureKind).retry;
}
