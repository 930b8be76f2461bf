import { isEtlError, type ErrorCode } from '../errors/index.js';
import { isTransientPostgresError } from '../store/postgres/errors.js';
import { isTransientIoError } from '../util/retry.js';

/**
 * Which failures a job retries. A job only throws for infrastructure (bad data is a result), so
 * anything thrown is retried unless it is one of the errors no retry can fix: configuration and
 * layouts, which need a person.
 */
const PERMANENT: ReadonlySet<ErrorCode> = new Set([
  'ETL_CONFIG_INVALID',
  'ETL_USAGE',
  'ETL_LAYOUT_FILE_UNREADABLE',
  'ETL_LAYOUT_INVALID',
  'ETL_LAYOUT_NO_KEY',
  'ETL_LAYOUT_UNKNOWN_TABLE',
]);

/** SQLite result codes that clear up on their own. */
const TRANSIENT_SQLITE = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR', 'SQLITE_FULL', 'SQLITE_CANTOPEN']);

export function isRetryableError(err: unknown): boolean {
  if (isEtlError(err)) return !PERMANENT.has(err.code);
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && [...TRANSIENT_SQLITE].some((c) => code.startsWith(c))) return true;
  if (isTransientPostgresError(err) || isTransientIoError(err)) return true;
  // Unknown: most likely infrastructure we have not named; a retry costs little.
  return true;
}
