import type { Value } from '../schema/index.js';

/** One valid row ready to merge: values in the merge's column order, its key, row hash and line hash. */
export interface StagedRow {
  readonly key: string;
  readonly values: readonly Value[];
  readonly hash: string;
  /** The hash of the line the row was read from (see extract/line-hash.ts). */
  readonly line: string | null;
  /** The values as CSV, each followed by a comma, when the reader wrote them (TypedRow.csv). */
  readonly csv?: string | null;
}

/**
 * A file's rejected rows as the merge needs them, filled in while its rows stream and complete
 * once the stream has ended: the keys it holds (read, not loaded) and how many had no key.
 */
export interface RejectedKeys {
  readonly keys: ReadonlySet<string>;
  readonly keyless: number;
}
