import type { ErrorCode } from './catalogue.js';

export { behaviourOf, ERROR_CATALOGUE, type ErrorBehaviour, type ErrorCode } from './catalogue.js';
export { EtlError, isEtlError } from './etl-error.js';
export { coerceError, describeFailure, isFileSystemError, type FailureKind, type StoreFailureKind } from './failure.js';

/**
 * One rejected row: a row that fails a rule is dropped, recorded with where it came from and
 * why, and the rest of the file goes on. `key` is the key column's value as written (cut to the
 * column's width), only when the record's fields could be read in place; `message` never holds a
 * value. `raw` is the start of the record as it appeared in the file, at most
 * ETL_MAX_REJECT_LINE_BYTES of it, and `rawBytes` its full length: personal data, stored in
 * etl_rejects.original_line and shown only to an admin who asks.
 */
export interface Reject {
  readonly file: string;
  readonly line: number;
  readonly key: string | null;
  readonly field: string | null;
  readonly code: ErrorCode;
  readonly message: string;
  readonly raw: string;
  /** The record's full length in UTF-8 bytes (what `raw` was cut from). */
  readonly rawBytes: number;
}

/** A finding about a whole file or folder rather than a row (an unknown column, a stale delta). */
export interface Notice {
  readonly severity: 'error' | 'warning' | 'info';
  readonly code: ErrorCode;
  readonly file: string | null;
  readonly message: string;
}
