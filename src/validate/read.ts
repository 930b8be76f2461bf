import type { ErrorCode, Notice, Reject } from '../errors/index.js';
import {
  DEFAULT_LINE_LIMITS,
  readCsvRecords,
  readFixedRecords,
  type FileColumns,
  type LineLimits,
  type KnownLineTest,
  type RecordBatch,
  type SourceFile,
} from '../extract/index.js';
import { KeyLineIndex, type KeyLines } from './key-index.js';
import { createRowValidator, type RowValidator, type RowValidatorOptions, type TypedRow } from './validator.js';

/** Typed rows and rejects from one stretch of a file. */
export interface ValidatedBatch {
  readonly columns: FileColumns;
  readonly rows: readonly TypedRow[];
  readonly rejects: readonly Reject[];
  /** Keys of the rejected rows whose key could be read (not duplicates of a loaded row): held as they are stored. */
  readonly held: readonly string[];
  /** Rejected rows whose key could not be read: which stored rows they were is unknown. */
  readonly keyless: number;
  /** Records in this batch: rows, rejected records and known lines. */
  readonly records: number;
  /** Known lines (see `skipKnownLines`): valid rows, unchanged since they were stored, not read. */
  readonly known: number;
  /** How the file's lines are read (RecordBatch.fingerprint). */
  readonly fingerprint: string;
  /** Bytes of the file read so far (RecordBatch.bytesRead), for progress. */
  readonly bytesRead: number;
}

/**
 * A table's stored rows (a mirror digest): the lines they were read from, by line hash, and
 * their keys. An entry is one stored row. Once lines are skipped, the line of the file that
 * first showed each stored key is kept here rather than in the validator's own index, so a
 * skipped line needs no key at all.
 */
export interface KnownLines {
  /** The entry whose line hash this is, among active rows; -1 if none. */
  findLine(hi: number, lo: number): number;
  /** The entry with this key (as the validator builds keys); -1 if none. */
  findKey(key: string): number;
  /** The line of the file that first showed the entry's key; 0 while none has. */
  firstLine(entry: number): number;
  /** Records that the file first showed the entry's key on `line`. */
  showKey(entry: number, line: number): void;
}

/** Why a whole file could not be read as a table. */
export interface FileFailure {
  readonly code: ErrorCode;
  readonly message: string;
}

/**
 * Reads one source file into typed rows and rejects, batch by batch. Whole-file findings collect
 * in `notices`; a file that cannot be read as a table sets `failure` and yields nothing.
 * I/O errors are thrown: they are infrastructure, not data.
 */
export interface ValidatedFileReader {
  readonly notices: readonly Notice[];
  readonly failure: FileFailure | null;
  batches(): AsyncGenerator<ValidatedBatch>;
  /**
   * From the next stretch of the file on, a line that `lines` knows is counted as a valid,
   * unchanged row and not read further, unless its key was already met in the file (it is then
   * read, and rejected as a duplicate as it would have been). Rows read are as they would be.
   */
  skipKnownLines(lines: KnownLines): void;
}

/** Options of `createValidatedFileReader`: the validator's, and the line limits of the readers. */
export interface ValidatedFileReaderOptions extends Omit<RowValidatorOptions, 'maxRejectLineBytes'> {
  /** ETL_MAX_LINE_BYTES and ETL_MAX_REJECT_LINE_BYTES; their defaults when absent. */
  readonly lines?: LineLimits;
  /** The file's bytes, when they were read already (for its checksum); else the file is read from its path. */
  readonly bytes?: Buffer;
}

export function createValidatedFileReader(
  file: SourceFile,
  readerOptions: ValidatedFileReaderOptions = {},
): ValidatedFileReader {
  const { bytes, ...validatorOptions } = readerOptions;
  const lines = readerOptions.lines ?? DEFAULT_LINE_LIMITS;
  const options: RowValidatorOptions = { ...validatorOptions, maxRejectLineBytes: lines.maxRejectLineBytes };
  const notices: Notice[] = [];
  let failure: FileFailure | null = null;
  const layout = file.layout;
  /** Keys met so far: in `stored` when it knows them (once lines are skipped), else in `others`. */
  const others = new KeyLineIndex();
  let stored: KnownLines | null = null;
  const seen: KeyLines = {
    addOrGetLine(key, line) {
      const entry = stored === null ? -1 : stored.findKey(key);
      if (entry === -1) return others.addOrGetLine(key, line);
      const first = (stored as KnownLines).firstLine(entry);
      if (first !== 0) return first;
      (stored as KnownLines).showKey(entry, line);
      return undefined;
    },
  };
  let test: KnownLineTest | null = null;
  const known = (): KnownLineTest | null => test;

  async function* batches(): AsyncGenerator<ValidatedBatch> {
    if (layout.keyProblem !== null) {
      failure = { code: 'ETL_LAYOUT_NO_KEY', message: layout.keyProblem };
      return;
    }
    const source: AsyncGenerator<RecordBatch> =
      layout.format === 'fixed'
        ? readFixedRecords(bytes ?? file.path, layout, known, lines)
        : readCsvRecords(
            bytes ?? file.path,
            file.name,
            layout,
            (n) => notices.push(n),
            (p) => (failure = p),
            known,
            lines,
          );
    let validator: RowValidator | null = null;
    let columns: FileColumns | null = null;
    for await (const batch of source) {
      if (batch.columns !== columns) {
        columns = batch.columns;
        validator = createRowValidator(file.name, columns, layout, seen, options);
        const absentRequired = columns.columns.slice(columns.present).filter((c) => c.required);
        if (absentRequired.length > 0) {
          notices.push({
            severity: 'warning',
            code: 'ETL_PARSE_MISSING_COLUMNS',
            file: file.name,
            message: `required column${absentRequired.length > 1 ? 's' : ''} ${absentRequired.map((c) => c.name).join(', ')} not in the file; read as null`,
          });
        }
      }
      const rows: TypedRow[] = [];
      const rejects: Reject[] = [];
      const held: string[] = [];
      let keyless = 0;
      for (const record of batch.records) {
        const result = (validator as RowValidator).validate(record);
        if (result.row) {
          rows.push(result.row);
          continue;
        }
        rejects.push(...result.rejects);
        if (result.heldKey === null) keyless++;
        else if (result.duplicate !== true) held.push(result.heldKey);
      }
      yield {
        columns,
        rows,
        rejects,
        held,
        keyless,
        records: batch.records.length + batch.known,
        known: batch.known,
        fingerprint: batch.fingerprint,
        bytesRead: batch.bytesRead,
      };
    }
  }

  return {
    notices,
    get failure() {
      return failure;
    },
    batches,
    skipKnownLines(lines) {
      // The keys met before now that the digest knows move to it; the rest stay where they are.
      for (const [key, line] of others.entries()) {
        const entry = lines.findKey(key);
        if (entry !== -1) lines.showKey(entry, line);
      }
      stored = lines;
      test = (hi, lo, line) => {
        const entry = lines.findLine(hi, lo);
        if (entry === -1 || lines.firstLine(entry) !== 0) return false;
        lines.showKey(entry, line);
        return true;
      };
    },
  };
}
