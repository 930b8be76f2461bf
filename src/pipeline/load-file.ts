import { coerceError, isFileSystemError, type ErrorCode, type Notice, type Reject } from '../errors/index.js';
import { DEFAULT_LINE_LIMITS, type LineLimits, type SourceFile } from '../extract/index.js';
import { createRowHasher } from '../load/index.js';
import { readAsOf, repeatedLoad } from '../plan/index.js';
import { mirrorColumnName, mirrorFor } from '../schema/index.js';
import { zeroCounts, type LoadTransaction, type MergeCounts, type StagedRow } from '../store/index.js';
import { createValidatedFileReader, type ValidatedBatch } from '../validate/index.js';

/** What loading one file did, for the ledger, the guard rails and the summary. */
export interface FileLoadResult extends MergeCounts {
  readonly file: SourceFile;
  readonly records: number;
  readonly rows: number;
  /** Rows counted as unchanged from their line hash alone, without reading them (see validate/read.ts). */
  readonly known: number;
  /** How the file's lines were read (plan/unchanged.ts); null when it could not be read as a table. */
  readonly readAs: string | null;
  /** The run whose load of the same bytes this file repeated: it was not read past its header. */
  readonly unchangedSince: number | null;
  readonly rejected: number;
  readonly rejectsByCode: Partial<Record<ErrorCode, number>>;
  /** Rejects kept for etl_rejects (at most ETL_MAX_STORED_REJECTS). */
  readonly rejects: readonly Reject[];
  readonly notices: readonly Notice[];
  /** Why the file could not be read as a table; it then loaded nothing. */
  readonly error: { readonly code: ErrorCode; readonly message: string } | null;
  /**
   * The file stopped being readable after its rows had begun to reach the database: what it
   * wrote cannot be told from the rest, so the run must roll back whole (see run-school.ts).
   */
  readonly aborted?: boolean;
}

/** Why a file could not be read, in words: its path and the OS's reason (`EACCES (open)`), never its bytes. */
export function unreadableMessage(path: string, err: unknown): string {
  return isFileSystemError(err)
    ? `cannot read ${path}: ${err.code} (${err.syscall})`
    : `cannot read ${path}: ${coerceError(err).message}`;
}

function unreadable(file: SourceFile, err: NodeJS.ErrnoException): { code: ErrorCode; message: string } {
  return { code: 'ETL_SOURCE_UNREADABLE', message: unreadableMessage(file.path, err) };
}

export interface LoadFileOptions {
  readonly runId: number;
  readonly school: string;
  readonly maxStoredRejects: number;
  /** Told how far a full file's deactivations have got. */
  readonly onDeactivate?: (done: number, total: number) => void;
  /** Told, after each stretch of the file, the records and bytes read so far. */
  readonly onRead?: (records: number, bytesRead: number) => void;
  /** ETL_MAX_LINE_BYTES and ETL_MAX_REJECT_LINE_BYTES; their defaults when absent. */
  readonly lines?: LineLimits;
  /** The file's bytes, read already for its checksum; else it is read from its path. */
  readonly bytes?: Buffer;
  /**
   * The SHA-256 of the file's bytes: when the table's last load read the same bytes the same
   * way and kept every row, the file is not read past its header (see plan/unchanged.ts).
   */
  readonly sha256?: string;
  /** Read every line, even those a stored row was read from (see EtlOptions.reread). */
  readonly reread?: boolean;
}

/**
 * Streams one file through read → validate → hash → merge inside the run's transaction. The
 * mirror table is made ready from the first batch (which carries the file's columns) before any
 * row is merged; on a re-run the store's digest of the school's rows then lets the reader skip
 * the lines those rows were read from. Bad rows are collected as rejects; the file's rows are
 * never held together.
 */
export async function loadFile(
  tx: LoadTransaction,
  file: SourceFile,
  options: LoadFileOptions,
): Promise<FileLoadResult> {
  const reader = createValidatedFileReader(file, {
    // Plain lines' values as CSV too: a slice of the line, which a COPY-based store writes as it is.
    csv: true,
    ...(options.lines === undefined ? {} : { lines: options.lines }),
    ...(options.bytes === undefined ? {} : { bytes: options.bytes }),
  });
  const batches = reader.batches();
  const rejects: Reject[] = [];
  const rejectsByCode: Partial<Record<ErrorCode, number>> = {};
  let records = 0;
  let rows = 0;
  let known = 0;
  // The keys rejected rows held, for the merge to count as shown; kept as a set, since a file's
  // rejects are few (past ETL_MAX_ERROR_RATE the run fails anyway).
  const heldKeys = new Set<string>();
  const rejected = { keys: heldKeys, keyless: 0 };

  const take = (batch: ValidatedBatch): void => {
    records += batch.records;
    rows += batch.rows.length + batch.known;
    known += batch.known;
    for (const key of batch.held) heldKeys.add(key);
    rejected.keyless += batch.keyless;
    for (const r of batch.rejects) {
      rejectsByCode[r.code] = (rejectsByCode[r.code] ?? 0) + 1;
      if (rejects.length < options.maxStoredRejects) rejects.push(r);
    }
    options.onRead?.(records, batch.bytesRead);
  };

  const result = (counts: MergeCounts, error: FileLoadResult['error']): FileLoadResult => ({
    file,
    records,
    rows,
    known,
    rejected: records - rows,
    rejectsByCode,
    rejects,
    notices: reader.notices,
    error,
    ...counts,
    unchanged: counts.unchanged + known,
    held: heldKeys.size,
    readAs: null,
    unchangedSince: null,
  });
  let first: IteratorResult<ValidatedBatch>;
  try {
    first = await batches.next();
  } catch (err) {
    // Gone since discovery, no permission, an I/O error: the file fails the night (a guard rail), not the process.
    if (isFileSystemError(err)) return result(zeroCounts(), unreadable(file, err));
    throw err;
  }
  if (first.done) return result(zeroCounts(), reader.failure);

  const columns = first.value.columns;
  const mirror = mirrorFor(file.layout, columns.columns);
  await tx.ensureMirror(mirror);
  const readAs = readAsOf(first.value.fingerprint, (options.lines ?? DEFAULT_LINE_LIMITS).maxLineBytes);
  const repeated =
    options.sha256 === undefined
      ? null
      : repeatedLoad(await tx.previousLoad(options.school, file.table), {
          sha256: options.sha256,
          readAs,
          mode: file.mode,
        });
  if (repeated !== null && (await tx.countRows(mirror, options.school)) >= repeated.rows) {
    // The table holds exactly the rows this file gives: every one unchanged, none to deactivate.
    await batches.return(undefined);
    return {
      ...result(zeroCounts(), null),
      records: repeated.records,
      rows: repeated.rows,
      known: repeated.rows,
      rejected: 0,
      unchanged: repeated.rows,
      readAs,
      unchangedSince: repeated.runId,
    };
  }
  const names = columns.columns.map((c) => mirrorColumnName(c.name));
  const hasher = createRowHasher(names);
  // On a re-run, lines the school's rows were read from are known from here on, and skipped.
  const digest = await tx.readDigest(mirror, options.school);
  if (digest.size > 0 && options.reread !== true) reader.skipKnownLines(digest);

  // What reading the file threw, if it did: a merge can fail from the file's side or the
  // database's, and a database socket's ECONNRESET looks like a file-system error too.
  let readFailure: unknown = null;
  async function* staged(): AsyncGenerator<readonly StagedRow[]> {
    let batch: ValidatedBatch | undefined = first.done ? undefined : first.value;
    while (batch) {
      take(batch);
      yield batch.rows.map((r) => ({
        key: r.key,
        values: r.values,
        hash: hasher.hash(r.values),
        line: r.lineHash,
        csv: r.csv,
      }));
      const next = await batches.next().catch((err: unknown) => {
        readFailure = err;
        throw err;
      });
      batch = next.done ? undefined : next.value;
    }
  }

  try {
    const counts = await tx.mergeFile(
      {
        runId: options.runId,
        school: options.school,
        mirror,
        mode: file.mode,
        columns: names,
        digest,
        rejected,
        ...(options.onDeactivate ? { onDeactivate: options.onDeactivate } : {}),
      },
      staged(),
    );
    return { ...result(counts, reader.failure), readAs };
  } catch (err) {
    if (readFailure === null || !isFileSystemError(readFailure)) throw err;
    return { ...result(zeroCounts(), unreadable(file, readFailure)), aborted: true };
  }
}

/** A file whose bytes could not be read at all: it loads nothing and fails the night (see guards). */
export function unreadableFile(file: SourceFile, why: string): FileLoadResult {
  return {
    file,
    records: 0,
    rows: 0,
    known: 0,
    rejected: 0,
    rejectsByCode: {},
    rejects: [],
    notices: [],
    error: { code: 'ETL_SOURCE_UNREADABLE', message: why },
    ...zeroCounts(),
    readAs: null,
    unchangedSince: null,
  };
}
