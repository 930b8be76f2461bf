import { isEtlError, type ErrorCode } from '../errors/index.js';
import { isTransientPostgresError } from '../store/postgres/errors.js';
import { isTransientIoError } from '../util/retry.js';

/**
 * What a thrown failure was, decided once for the ledger, the job's retries and the messages.
 * Bad data and tripped guards are results, not throws; what is thrown is either an EtlError,
 * which carries its own code, or something from below: the database, the file system, or a bug.
 * Only failures known to clear up on their own are retried; one nobody foresaw is ETL_INTERNAL
 * and is not (a retry would fail the same way, three times, and hide the bug behind "unavailable").
 */
export interface FailureKind {
  readonly code: ErrorCode;
  /** A later attempt may succeed: the database, the share or the lock may be back. */
  readonly retry: boolean;
  /** For the run's `reason`: the code's meaning and the failure's own message (no values from files). */
  readonly reason: string;
}

/** EtlError codes a job retries: the share or the database down, another run holding the school. */
const RETRYABLE: ReadonlySet<ErrorCode> = new Set(['ETL_DB_UNAVAILABLE', 'ETL_SOURCE_NOT_FOUND', 'ETL_RUN_LOCKED']);

/** SQLite result codes that clear up on their own. */
const TRANSIENT_SQLITE = ['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR', 'SQLITE_FULL', 'SQLITE_CANTOPEN'];

function isTransientSqliteError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TRANSIENT_SQLITE.some((c) => code.startsWith(c));
}

/** A Node file-system error: it has an errno code and names the call that failed. */
function isFileSystemError(err: unknown): boolean {
  const e = err as NodeJS.ErrnoException | null;
  return typeof e?.code === 'string' && typeof e.syscall === 'string' && /^E[A-Z]+$/.test(e.code);
}

export function describeFailure(err: unknown): FailureKind {
  const message = err instanceof Error ? err.message : String(err);
  if (isEtlError(err)) return { code: err.code, retry: RETRYABLE.has(err.code), reason: message };
  if (isTransientPostgresError(err) || isTransientSqliteError(err)) {
    return { code: 'ETL_DB_UNAVAILABLE', retry: true, reason: `database unavailable: ${message}` };
  }
  if (isFileSystemError(err)) return { code: 'ETL_SOURCE_UNREADABLE', retry: isTransientIoError(err), reason: `file system: ${message}` };
  return { code: 'ETL_INTERNAL', retry: false, reason: `internal error: ${message}` };
}
