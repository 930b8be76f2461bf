import type { Value } from '../../../schema/index.js';
import { commas, csvField } from '../../../util/index.js';
import type { StagedRow } from '../../types.js';

/**
 * COPY data as the merge writes it: mirror and staged rows in csv format (rowLine),
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

/**
 * One staged row as a line of rows' COPY data (csv, see util/csv-field.ts): its values in `columns` order, then its row and
 * line hashes (and `suffix`, fields already written the same way). A row read from a plain CSV
 * line comes with its values written already (StagedRow.csv); otherwise each run of nulls is
 * appended as one string, not a piece per column.
 */
export function rowLine(row: StagedRow, width: number, suffix = ''): string {
  // Both hashes are hex digits (see load/hash.ts, extract/line-hash.ts): no field syntax needed.
  const tail = row.hash + ',' + (row.line ?? '') + suffix + '\n';
  if (row.csv !== undefined && row.csv !== null) return row.csv + tail;
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
      line += commas(nulls);
      nulls = 0;
    }
    line += csvField(v) + ',';
  }
  if (nulls > 0) line += commas(nulls);
  return line + tail;
}

/** The options of a COPY of rows' data written by rowLine. */
export const ROW_COPY_OPTIONS = 'FORMAT csv';

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
