import { ERROR_CATALOGUE, type ErrorCode } from './catalogue.js';

/**
 * An error cases-etl raises on purpose: it carries a stable code from the catalogue and, where
 * there were several problems (a config or layout file), every one of them in `problems`.
 */
export class EtlError extends Error {
  readonly code: ErrorCode;
  readonly problems: readonly string[];
  /**
   * Whether a job retries this one failure, where it differs from what its code says: a database
   * that is down is retried, one that refused the login or is not a database at all is not.
   */
  readonly retry: boolean | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { problems?: readonly string[]; cause?: unknown; retry?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EtlError';
    this.code = code;
    this.problems = options.problems ?? [];
    this.retry = options.retry;
  }

  /** The catalogue's advice for this error's code. */
  get fix(): string {
    return ERROR_CATALOGUE[this.code].fix;
  }
}

/** Whether `err` is an EtlError, optionally with one of the given codes. */
export function isEtlError(err: unknown, ...codes: ErrorCode[]): err is EtlError {
  return err instanceof EtlError && (codes.length === 0 || codes.includes(err.code));
}
