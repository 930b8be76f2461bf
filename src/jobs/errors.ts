import { isEtlError, type ErrorCode } from '../errors/index.js';
import { isTransientPostgresError } from '../store/postgres/errors.js';
import { isTransientIoError } from '../util/retry.js';

/**
 * Which failures a job retries. A job only throws for infrastructure (bad data is a result), so
 * anything thrown is retried unless it is one of the errors no retry can fix: configuration and
 * layouts, which need a person. Every ETL_LAYOUT_ code is one (a layout whose key differs from the
 * mirror's fails the same way on every attempt), including codes added later.
 */
const PERMANENT: ReadonlySet<ErrorCode> = new Set(['ETL_CONFIG_INVALID', 'ETL_USAGE']);

const isPermanent = (code: ErrorCode): boolean => PERMANENT.has(code) || code.startsWith('ETL_LAYOUT_');

/** SQLite result codes that clear up on their own. */
const TRANSIENT_SQLITE = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR', 'SQLITE_FULL', 'SQLITE_CANTOPEN']);

export function isRetryableError(err: unknown): boolean {
  if (isEtlError(err)) return !isPermanent(err.code);
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && [...TRANSIENT_SQLITE].some((c) => code.startsWith(c))) return true;
  if (isTransientPostgresError(err) || isTransientIoError(err)) return true;
  // Unknown: most likely infrastructure we have not named; a retry costs little.
  return true;
}
