import type { TableLayout } from '../layouts/index.js';
import { textNeedsEncodingCheck, cutUtf8, overUtf8, utf8Length } from '../util/index.js';
import { checkEncoding } from './encoding-check.js';
import { LineHasher, lineFingerprint, TextUnits, type KnownLineTest } from './line-hash.js';
import {
  DEFAULT_LINE_LIMITS,
  detach,
  lineTooLong,
  nulProblem,
  type FileColumns,
  type LineLimits,
  type RawRecord,
  type RecordBatch,
  type RecordProblem,
} from './records.js';
import { readTextChunks, type Source } from './text.js';

/**
 * Fixed-width records: one per line, each column a character range from the layout. Lines of the
 * wrong length and lines with tabs (which break positions) are rejected one by one; values are
 * trimmed of their padding.
 */

/** The columns of a fixed-width file are exactly its layout's; nothing is extra or missing. */
export function fixedColumns(layout: TableLayout): FileColumns {
  return { columns: layout.columns, present: layout.columns.length, extra: [], missing: [] };
}

/** Characters a full record needs: the end of the furthest column. */
export function recordWidth(layout: TableLayout): number {
  return layout.columns.reduce((w, c) => Math.max(w, (c.start ?? 0) + (c.width ?? 0)), 0);
}

function lineProblem(line: string, width: number, layout: TableLayout): RecordProblem | null {
  const tab = line.indexOf('\t');
  if (tab !== -1) {
    const col = layout.columns.find(
      (c) => c.start !== null && c.width !== null && tab >= c.start && tab < c.start + c.width,
    );
    return {
      code: 'ETL_PARSE_TAB',
      field: col?.name ?? null,
      message: `a tab at character ${tab + 1}; fixed-width lines must be padded with spaces`,
    };
  }
  if (line.length < width) {
    const cut = layout.columns.filter((c) => (c.start ?? 0) + (c.width ?? 0) > line.length).map((c) => c.name);
    return {
      code: 'ETL_PARSE_SHORT_LINE',
      field: cut[0] ?? null,
      message: `the line has ${line.length} characters, the layout needs ${width}; ${cut.length === 1 ? 'column' : 'columns'} ${cut.join(', ')} ${cut.length === 1 ? 'is' : 'are'} cut short`,
    };
  }
  if (line.length > width && line.slice(width).trim() !== '') {
    return {
      code: 'ETL_PARSE_LONG_LINE',
      field: null,
      message: `the line has ${line.length} characters, the layout ends at ${width}; check the layout's widths`,
    };
  }
  return null;
}

/**
 * Whether String.prototype.trim would remove the code unit: white space and line terminators as
 * ECMAScript counts them. Values are trimmed as trim() does, but by position, without a string
 * for the line and another for each padded field.
 */
function trimmable(c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13);
  if (c < 0xa0) return false;
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/** Whether units[from, to) is all trimmable (or empty). */
function blank(units: Uint16Array, from: number, to: number): boolean {
  for (let p = from; p < to; p++) if (!trimmable(units[p] as number)) return false;
  return true;
}

/**
 * Streams a fixed-width file as batches of raw records. Blank lines are skipped. `known`, asked
 * before each chunk, may recognise lines by their line hash; those are counted, not read.
 */
export async function* readFixedRecords(
  source: Source,
  layout: TableLayout,
  known: () => KnownLineTest | null = () => null,
  limits: LineLimits = DEFAULT_LINE_LIMITS,
): AsyncGenerator<RecordBatch> {
  const columns = fixedColumns(layout);
  const width = recordWidth(layout);
  const cols = layout.columns;
  const starts = Int32Array.from(cols, (c) => c.start ?? 0);
  const ends = Int32Array.from(cols, (c) => (c.start ?? 0) + (c.width ?? 0));
  let pending = '';
  let line = 1;
  let encoding = layout.encoding;
  let first = true;
  // The chunk's code units, written out once and read by both the hasher and the trimming.
  const textUnits = new TextUnits();
  let hasher: LineHasher | null = null;
  let fingerprint = '';
  // A line over the limit being skipped (see the CSV reader): where it started, its kept start, its bytes so far.
  let skipping: { line: number; kept: string; bytes: number } | null = null;
  for await (const chunk of readTextChunks(source, layout.encoding, (used) => (encoding = used))) {
    // The encoding is settled by the first chunk (a byte-order mark), so the seed is made then.
    fingerprint ||= lineFingerprint(columns, 'fixed', encoding, layout.primaryKey ?? []);
    hasher ??= new LineHasher(fingerprint, textUnits);
    if (first) {
      // The first batch, before any line is read (the file has opened, and its first stretch is
      // in): it tells the columns even for an empty file, and the caller may then have every line
      // checked against what it already holds (see `known`).
      first = false;
      yield { columns, records: [], known: 0, fingerprint, bytesRead: 0 };
    }
    const test = known();
    const records: RawRecord[] = [];
    let chunkText = chunk.text;
    if (skipping !== null) {
      const nl = chunkText.indexOf('\n');
      skipping.bytes += utf8Length(chunkText, 0, nl === -1 ? chunkText.length : nl);
      if (nl === -1 && !chunk.final) continue;
      const { kept, bytes } = skipping;
      const problem = lineTooLong(bytes, limits.maxLineBytes);
      records.push({
        line: skipping.line,
        fields: [],
        text: kept,
        start: 0,
        end: kept.length,
        problem,
        lineHash: null,
        bytes,
      });
      line = skipping.line + 1;
      skipping = null;
      chunkText = nl === -1 ? '' : chunkText.slice(nl + 1);
    }
    const text = pending + chunkText;
    const units = textUnits.of(text);
    const checkText = textNeedsEncodingCheck(text, encoding);
    // The next U+0000 at or after a line's start (-1: none), found once per NUL rather than once per line.
    let nul = chunk.mayHoldNul || pending.length > 0 ? text.indexOf('\0') : -1;
    let knownLines = 0;
    let start = 0;
    // The next tab at or after `start` (text.length when none): one search per tab, not per line.
    let tab = -1;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl === -1 && !chunk.final) break;
      const end = nl === -1 ? text.length : nl;
      if (end > start) hasher.hash(text, start, end);
      if (end > start && test !== null && test(hasher.hi, hasher.lo, line)) knownLines++;
      else if (!blank(units, start, end)) {
        if (tab < start) {
          tab = text.indexOf('\t', start);
          if (tab === -1) tab = text.length;
        }
        const length = end - start;
        if (nul !== -1 && nul < start) nul = text.indexOf('\0', start);
        let problem = overUtf8(text, start, end, limits.maxLineBytes)
          ? lineTooLong(utf8Length(text, start, end), limits.maxLineBytes)
          : null;
        problem ??=
          tab < end || length < width || (length > width && !blank(units, start + width, end))
            ? lineProblem(text.slice(start, end), width, layout)
            : null;
        // Fields are read even for a rejected line, so its reject can name the key.
        const fields: string[] = [];
        for (let i = 0; i < cols.length; i++) {
          let from = start + (starts[i] as number);
          let to = Math.min(start + (ends[i] as number), end);
          while (from < to && trimmable(units[from] as number)) from++;
          while (to > from && trimmable(units[to - 1] as number)) to--;
          fields.push(from < to ? text.slice(from, to) : '');
        }
        if (!problem && nul !== -1 && nul < end) problem = nulProblem(fields, cols);
        if (!problem && checkText) problem = checkEncoding(fields, cols, encoding);
        records.push({
          line,
          fields,
          text,
          start,
          end: nl === -1 ? end : nl + 1,
          problem,
          lineHash: problem ? null : hasher.lastHex(),
        });
      }
      line++;
      if (nl === -1) break;
      start = nl + 1;
    }
    pending = chunk.final ? '' : text.slice(start);
    if (overUtf8(pending, 0, pending.length, limits.maxLineBytes)) {
      // An unfinished line already too long: keep its start for the reject and skip the rest as it comes.
      skipping = {
        line,
        kept: detach(cutUtf8(pending.slice(0, limits.maxRejectLineBytes), limits.maxRejectLineBytes)),
        bytes: utf8Length(pending),
      };
      pending = '';
    }
    if (records.length > 0 || knownLines > 0)
      yield { columns, records, known: knownLines, fingerprint, bytesRead: chunk.bytesRead };
  }
}
