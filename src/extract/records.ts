import type { ErrorCode, Notice } from '../errors/index.js';
import type { ColumnLayout } from '../layouts/index.js';
import { cutUtf8, utf8Length } from '../util/index.js';

/** A problem found while reading a record (before any type conversion); the record is rejected. */
export interface RecordProblem {
  readonly code: ErrorCode;
  readonly message: string;
  readonly field: string | null;
}

/**
 * One record as read from the file: text fields aligned with the file's columns. `fields` may be
 * shorter than the columns (absent columns read as null). The original text is `text` between
 * `start` and `end`; it is kept by reference and only copied out for a reject.
 */
export interface RawRecord {
  /** 1-based line of the file where the record starts. */
  readonly line: number;
  readonly fields: readonly string[];
  readonly text: string;
  readonly start: number;
  readonly end: number;
  readonly problem: RecordProblem | null;
  /** The line hash of the record's text (see line-hash.ts); null for a record with a problem. */
  readonly lineHash: string | null;
  /**
   * True for a CSV line with no quote and no U+0000: its fields are exactly the stretches of its
   * text between commas, and it is valid CSV as it stands.
   */
  readonly plain?: boolean;
  /**
   * The record's full length in UTF-8 bytes when `text` holds only its start: a line longer than
   * the reader's limit, skipped unread (ETL_PARSE_LINE_TOO_LONG). Absent otherwise.
   */
  readonly bytes?: number;
}

/** How much of a line the readers read, and how much of a rejected one is kept (see config). */
export interface LineLimits {
  /** Longest line read, in UTF-8 bytes; a longer one is a single reject, skipped unread. */
  readonly maxLineBytes: number;
  /** Bytes of a rejected line kept as its original line. */
  readonly maxRejectLineBytes: number;
}

/** The defaults of ETL_MAX_LINE_BYTES (1 MiB) and ETL_MAX_REJECT_LINE_BYTES (4 KiB). */
export const DEFAULT_LINE_LIMITS: LineLimits = { maxLineBytes: 1 << 20, maxRejectLineBytes: 4096 };

/**
 * A record with U+0000 in a value. PostgreSQL cannot store the character in text at all, and
 * SQLite stores it but most readers cut the value there, so neither database gets the value
 * faithfully: the row is rejected, the same on both. Fields stay in place, so the key still counts.
 */
export function nulProblem(
  fields: readonly string[],
  columns: ReadonlyArray<{ readonly name: string }>,
): RecordProblem {
  const at = fields.findIndex((f) => f.includes('\0'));
  const field = at === -1 ? null : (columns[at]?.name ?? null);
  return {
    code: 'ETL_ROW_NUL',
    field,
    message: `${field ?? 'a value'} holds a NUL character (U+0000), which the database cannot store`,
  };
}

/** The message of a line over ETL_MAX_LINE_BYTES: sizes only. */
export function lineTooLong(bytes: number, limit: number): RecordProblem {
  const message = `the line has ${bytes} bytes, more than the ${limit} a line may have; it was skipped unread`;
  return { code: 'ETL_PARSE_LINE_TOO_LONG', field: null, message };
}

/** The columns of one file: those present in the file in file order, then layout columns it lacks. */
export interface FileColumns {
  readonly columns: readonly ColumnLayout[];
  /** How many leading entries of `columns` appear in the file. */
  readonly present: number;
  /** Names in the file that the layout does not know (kept as text). */
  readonly extra: readonly string[];
  /** Layout columns the file lacks (read as null). */
  readonly missing: readonly string[];
}

export interface RecordBatch {
  readonly columns: FileColumns;
  readonly records: readonly RawRecord[];
  /** Lines in this stretch of the file that the known-line test recognised: counted, not read. */
  readonly known: number;
  /**
   * How the file's lines are read: the line hash's seed (see extract/line-hash.ts), the same for
   * every batch of a file. Equal fingerprints and equal bytes mean equal rows.
   */
  readonly fingerprint: string;
  /** Bytes of the file read up to the end of this batch's text (TextChunk.bytesRead), for progress. */
  readonly bytesRead: number;
}

/** Receives findings about the whole file while it is read. */
export type NoticeSink = (notice: Notice) => void;

/** Where the record's text ends without its line terminator. */
export function contentEnd(record: Pick<RawRecord, 'text' | 'start' | 'end'>): number {
  const end = record.end;
  return end > record.start && record.text.charCodeAt(end - 1) === 10 ? end - 1 : end;
}

/** The record's original text without its line terminator, detached from the chunk it came from. */
export function rawText(record: Pick<RawRecord, 'text' | 'start' | 'end'>): string {
  return detach(record.text.slice(record.start, contentEnd(record)));
}

/**
 * The record's original text cut to `maxBytes` of UTF-8 (detached from its chunk), U+0000 shown
 * as ␀, and the full length in bytes: what etl_rejects keeps of a rejected line, and how much there was.
 */
export function originalLine(
  record: Pick<RawRecord, 'text' | 'start' | 'end' | 'bytes'>,
  maxBytes: number,
): { text: string; bytes: number } {
  const end = contentEnd(record);
  // Cut before copying, so a long record is never copied whole.
  const cut = detach(cutUtf8(record.text.slice(record.start, Math.min(end, record.start + maxBytes)), maxBytes));
  // PostgreSQL text cannot hold U+0000 at all: it is kept as ␀ (U+2400) on both databases alike.
  const text = cut.includes('\0') ? cut.replaceAll('\0', '\u2400') : cut;
  return { text, bytes: record.bytes ?? utf8Length(record.text, record.start, end) };
}

/** Counts line feeds in s[from, to), stopping early at the usual case of one at to-1. */
export function countNewlines(s: string, from: number, to: number): number {
  let n = 0;
  let i = from;
  for (;;) {
    const j = s.indexOf('\n', i);
    if (j === -1 || j >= to) return n;
    n++;
    if (j === to - 1) return n;
    i = j + 1;
  }
}

/**
 * A copy of `s` that does not keep its source alive. V8 represents a substring of 13 or more
 * characters as a view into the parent string, so one date or key kept in a long-lived map would
 * pin a whole 32 KiB chunk of the file. Concatenating and slicing forces a fresh flat string.
 */
export function detach(s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1);
}
