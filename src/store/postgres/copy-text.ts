import type { Value } from '../../validate/index.js';
import type { StagedRow } from '../types.js';

/**
 * COPY data as the merge writes it: mirror and staged rows in csv format with tabs (rowLine),
 * everything else (keys, addresses, changes) in the text format (copyField), and chunks of lines
 * small enough to encode cheaply.
 */

/** COPY text format: these characters would end a field or a line, or are the escape itself. */
const SPECIAL = /[\\\t\n\r\0]/;
const SPECIAL_ALL = /[\\\t\n\r\0]/g;
const ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
  // PostgreSQL text cannot hold U+0000 at all; failing the night over one stray byte helps no one.
  '\0': '',
};

export function copyField(v: Value | undefined): string {
  if (v === null || v === undefined) return '\\N';
  if (typeof v === 'number') return String(v);
  return SPECIAL.test(v) ? v.replace(SPECIAL_ALL, (c) => ESCAPES[c] ?? c) : v;
}

/** Tab-separated CSV (COPY's csv format with a tab delimiter): these make a field need quotes. */
const CSV_SPECIAL = /[\t"\n\r\0]/;

/**
 * A field of the rows' COPY data, in COPY's csv format with tabs between fields: null is an empty
 * field, so the empty columns that make up most of a wide CASES21 row cost one tab each, not
 * three characters; an empty string is quoted. U+0000 is dropped, as in copyField.
 */
export function rowField(v: Value | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return String(v);
  if (v === '') return '""';
  if (!CSV_SPECIAL.test(v)) return v;
  return `"${(v.includes('\0') ? v.replaceAll('\0', '') : v).replaceAll('"', '""')}"`;
}

/** Tabs: a run of null fields, appended in one piece. */
const TABS = Array.from({ length: 256 }, (_, n) => '\t'.repeat(n));

/**
 * One staged row as a line of rows' COPY data (see rowField): its values in `columns` order, then
 * its row and line hashes (and `suffix`, fields already written the same way). Each run of nulls
 * is appended as one string, not a piece per column.
 */
export function rowLine(row: StagedRow, width: number, suffix = ''): string {
  const values = row.values;
  let line = '';
  let nulls = 0;
  for (let i = 0; i < width; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      nulls++;
      continue;
    }
    if (nulls > 0) {
      line += nulls < TABS.length ? TABS[nulls] : '\t'.repeat(nulls);
      nulls = 0;
    }
    line += rowField(v) + '\t';
  }
  if (nulls > 0) line += nulls < TABS.length ? TABS[nulls] : '\t'.repeat(nulls);
  return line + rowField(row.hash) + '\t' + rowField(row.line) + suffix + '\n';
}

/** The options of a COPY of rows' data written by rowLine. */
export const ROW_COPY_OPTIONS = `FORMAT csv, DELIMITER E'\\t'`;

/**
 * Characters of COPY text per chunk at most (plus one row). Rows read from a stretch of the file
 * with one character beyond Latin-1 are two-byte strings, and a two-byte string over 128 KB is
 * allocated in V8's large-object space, page by page: encoding a 70,000-character chunk for the
 * socket cost three times what two 35,000-character ones did.
 */
export const COPY_CHUNK_CHARS = 48_000;

/** Lines of text (each ending in a line break), a few thousand to a chunk. */
export async function* chunked(lines: Iterable<string>): AsyncGenerator<string> {
  let text = '';
  let n = 0;
  for (const line of lines) {
    text += `${line}\n`;
    if (++n % 4000 === 0) {
      yield text;
      text = '';
    }
  }
  if (text.length > 0) yield text;
}
