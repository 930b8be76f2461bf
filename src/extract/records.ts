import type { ErrorCode, Notice } from '../errors/index.js';
import type { ColumnLayout } from '../layouts/index.js';

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
