import { behaviourOf, type ErrorCode } from './catalogue.js';
import { EtlError } from './etl-error.js';

/**
 * What a thrown failure was, decided once for the ledger, the job's retries, the CLI's exit code
 * and the HTTP status. Bad data and tripped guards are results, not throws; what is thrown is an
 * EtlError, which carries its own code, or something from below: the database, the file system,
 * or a bug. Only failures known to clear up by themselves are retried; one nobody foresaw is
 * ETL_INTERNAL and is not (a retry would fail the same way, three times, and hide the bug behind
 * "unavailable").
 */
export interface FailureKind {
  readonly code: ErrorCode;
  /** A later attempt may succeed: the database, the share or the lock may be back. */
  readonly retry: boolean;
  /** For the run's `reason` and messages: the failure's own message, prefixed where it is not an EtlError. */
  readonly reason: string;
}

/** Whatever was thrown, as an Error: a thrown string or object gets one with its text. */
export function coerceError(err: unknown): Error {
  if (err instanceof Error) return err;
  return new Error(typeof err === 'string' ? err : (JSON.stringify(err) ?? String(err)));
}

/** A Node file-system error: it has an errno code and names the call that failed. */
export function isFileSystemError(err: unknown): err is NodeJS.ErrnoException {
  const e = err as NodeJS.ErrnoException | null;
  return typeof e?.code === 'string' && typeof e.syscall === 'string' && /^E[A-Z]+$/.test(e.code);
}

/** errno codes of the share or disk worth another try: the resource may be back in a moment. */
const TRANSIENT_ERRNO = new Set(['EAGAIN', 'EBUSY', 'EIO', 'EMFILE', 'ENFILE', 'ETIMEDOUT', 'ESTALE']);

/** What a store says of a driver's error (see the store's `storeFailureKind`). */
export type StoreFailureKind = (err: unknown) => 'transient' | 'refused' | null;

/**
 * Classifies `err`. `storeKind` says which driver errors clear up by themselves and which are the
 * server refusing us (a store's `storeFailureKind`); an EtlError's retry comes from its catalogue entry.
 */
export function describeFailure(err: unknown, storeKind: StoreFailureKind = () => null): FailureKind {
  const message = coerceError(err).message;
  if (err instanceof EtlError)
    return { code: err.code, retry: err.retry ?? behaviourOf(err.code).retry, reason: message };
  const kind = storeKind(err);
  if (kind === 'transient')
    return { code: 'ETL_DB_UNAVAILABLE', retry: true, reason: `database unavailable: ${message}` };
  // An unknown database or refused credentials: unavailable all the same, but a retry cannot help.
  if (kind === 'refused')
    return { code: 'ETL_DB_UNAVAILABLE', retry: false, reason: `the database refused the connection: ${message}` };
  if (isFileSystemError(err))
    return {
      code: 'ETL_SOURCE_UNREADABLE',
      retry: TRANSIENT_ERRNO.has(err.code ?? ''),
      reason: `file system: ${message}`,
    };
  return { code: 'ETL_INTERNAL', retry: false, reason: `internal error: ${message}` };
}
