import Papa from 'papaparse';

import type { TableLayout } from '../layouts/index.js';
import { textNeedsEncodingCheck, cutUtf8, overUtf8, utf8Length } from '../util/index.js';
import { checkEncoding } from './encoding-check.js';
import { LineHasher, lineFingerprint, TextUnits, type KnownLineTest } from './line-hash.js';
import { mapHeader, type HeaderProblem } from './header.js';
import {
  contentEnd,
  countNewlines,
  DEFAULT_LINE_LIMITS,
  detach,
  lineTooLong,
  nulProblem,
  type FileColumns,
  type LineLimits,
  type NoticeSink,
  type RecordBatch,
  type RecordProblem,
} from './records.js';
import { readTextChunks, type Source } from './text.js';

/**
 * eduHub CSV: a header row of CASES column names, comma-delimited, double-quoted with `""` for a
 * quote, commas and line breaks allowed inside quotes. Parsing is papaparse's (chosen on speed and
 * correctness, see docs/csv-parser.md) driven chunk by chunk so a file is never held whole; this
 * module adds line numbers, the original text of each record, header mapping by name, and
 * recovery from a broken quote so that one bad record costs one line, not the rest of the file.
 */

/**
 * A record of several lines longer than this is taken to be an unterminated quote swallowing the
 * file. (A single line is held to ETL_MAX_LINE_BYTES instead.)
 */
export const MAX_RECORD_CHARS = 1 << 20;

interface ParsedRecord {
  line: number;
  fields: string[];
  text: string;
  start: number;
  end: number;
  problem: RecordProblem | null;
  lineHash: string | null;
  plain: boolean;
  bytes?: number;
}

const BAD_QUOTE: RecordProblem = {
  code: 'ETL_PARSE_BAD_QUOTE',
  message:
    'a quoted field is malformed: a closing quote is followed by something other than a comma or line end; this line is rejected',
  field: null,
};
const UNTERMINATED_QUOTE: RecordProblem = {
  code: 'ETL_PARSE_UNTERMINATED_QUOTE',
  message: 'a quoted field is never closed; this line is rejected and reading resumes on the next line',
  field: null,
};

const PARSER_OPTIONS = { delimiter: ',', newline: '\n', quoteChar: '"' } as const;

interface StepResult {
  data: string[][];
  errors: ReadonlyArray<{ code: string }>;
  meta: { cursor: number };
}

/**
 * The fields of the quote-free text s[start, end), split on commas, reading the characters from
 * `units` (s as code units, see TextUnits). Empty fields are the empty string; longer ones are
 * substrings of `s` (V8 keeps those as views, so nothing is copied).
 */
function splitFields(s: string, units: Uint16Array, start: number, end: number, expected: number): string[] {
  const fields: string[] = expected > 0 ? new Array<string>(expected) : [];
  let n = 0;
  let f = start;
  for (let p = start; p < end; p++) {
    if (units[p] === 44) {
      fields[n++] = p === f ? '' : s.slice(f, p);
      f = p + 1;
    }
  }
  fields[n++] = f === end ? '' : s.slice(f, end);
  if (n !== fields.length) fields.length = n;
  return fields;
}

/** `readQuotedRecord` results: the record may go on past the input; the record is not plain RFC 4180. */
const INCOMPLETE = -1;
const MALFORMED = -2;

/**
 * Reads the record at s[pos] when it is strictly well-formed (RFC 4180): each field bare and
 * quote-free, or wholly quoted with inner quotes doubled, and a comma, line feed or the end of
 * the last chunk right after every closing quote. Pushes its fields and returns where the next
 * record starts; INCOMPLETE when the record may continue in the next chunk; MALFORMED for
 * anything else, which papaparse then reads with its own recovery. Papaparse gives exactly these
 * fields for a well-formed record, but costs about ten times as much per record.
 */
function readQuotedRecord(s: string, pos: number, final: boolean, fields: string[]): number {
  const len = s.length;
  let p = pos;
  for (;;) {
    if (p < len && s.charCodeAt(p) === 34) {
      let value = '';
      let from = p + 1;
      for (;;) {
        const close = s.indexOf('"', from);
        if (close === -1) return final ? MALFORMED : INCOMPLETE;
        if (close + 1 === len && !final) return INCOMPLETE;
        if (s.charCodeAt(close + 1) === 34) {
          value += s.slice(from, close + 1);
          from = close + 2;
          continue;
        }
        value += s.slice(from, close);
        p = close + 1;
        break;
      }
      fields.push(value);
      if (p === len) return p;
      const c = s.charCodeAt(p);
      if (c === 44) p++;
      else if (c === 10) return p + 1;
      else return MALFORMED;
    } else {
      let q = p;
      let c = 0;
      while (q < len && (c = s.charCodeAt(q)) !== 44 && c !== 10) {
        if (c === 34) return MALFORMED;
        q++;
      }
      if (q === len && !final) return INCOMPLETE;
      fields.push(q === p ? '' : s.slice(p, q));
      if (q === len) return q;
      p = q + 1;
      if (c === 10) return p;
    }
  }
}

/**
 * Splits normalised text into records, carrying an incomplete last record to the next chunk.
 * A record that is malformed (bad quote, or the wrong number of fields) and spans several lines
 * is most likely an unbalanced quote that swallowed its neighbours: only its first line is
 * rejected, and parsing restarts on the line after it.
 *
 * Most lines hold no quote at all, and for those a split on commas gives exactly what a
 * quote-aware parse gives, several times faster. So each chunk is cut into runs of whole
 * quote-free lines, split directly, and the stretches from a line with a quote to the end of its
 * quoted record, which papaparse parses record by record.
 */
class CsvRecordSplitter {
  private pending = '';
  private line = 1;
  /** Fields a record should have, once the header is known; 0 before. */
  expectedFields = 0;
  /** The chunk being split, as code units; shared with `hasher`. */
  readonly units = new TextUnits();
  /** Hashes each quote-free line, once the header is known. */
  hasher: LineHasher | null = null;
  /** Recognises lines that need not be read; they are only counted, in `knownLines`. */
  known: KnownLineTest | null = null;
  knownLines = 0;

  /** Whether `pending` may hold U+0000. */
  private pendingNul = false;

  /**
   * A line over the limit being skipped: the line it started on, the start kept for its reject
   * and its bytes so far. Only those are held, so a 200 MB line costs no more memory than a short one.
   */
  private skipping: { line: number; kept: string; bytes: number } | null = null;

  constructor(readonly limits: LineLimits) {}

  /** Splits `chunk` (after what is pending); `mayHoldNul` false when it certainly holds no U+0000. */
  push(chunk: string, final: boolean, out: ParsedRecord[], mayHoldNul = true): void {
    if (this.skipping !== null) {
      const nl = chunk.indexOf('\n');
      this.skipping.bytes += utf8Length(chunk, 0, nl === -1 ? chunk.length : nl);
      if (nl === -1 && !final) return;
      const { line, kept, bytes } = this.skipping;
      this.skipping = null;
      const problem = lineTooLong(bytes, this.limits.maxLineBytes);
      out.push({
        line,
        fields: [],
        text: kept,
        start: 0,
        end: kept.length,
        problem,
        lineHash: null,
        plain: false,
        bytes,
      });
      if (nl === -1) return;
      this.line = line + 1;
      chunk = chunk.slice(nl + 1);
    }
    let input = this.pending + chunk;
    const nul = this.pendingNul || mayHoldNul;
    this.pending = '';
    this.pendingNul = false;
    for (;;) {
      const restartAt = this.parseOnce(input, final, out, nul);
      if (restartAt === null) return;
      input = input.slice(restartAt);
    }
  }

  /** Parses `input`; returns where to restart after rejecting a first line, or null when done. */
  private parseOnce(input: string, final: boolean, out: ParsedRecord[], mayHoldNul: boolean): number | null {
    // Records end (and the next starts) at `done`; `broken` is where a rejected first line starts.
    let done = 0;
    let broken = -1;
    // The next U+0000 at or after `done`, or -1: found once and moved forward, because a search
    // from each stretch would read the rest of the chunk again for every line with a quote.
    let nul = mayHoldNul ? input.indexOf('\0') : -1;
    for (;;) {
      const quote = input.indexOf('"', done);
      // Whole lines before the first quote (on the last chunk: everything, when no quote is left).
      const fastEnd =
        quote === -1 ? (final ? input.length : input.lastIndexOf('\n') + 1) : input.lastIndexOf('\n', quote) + 1;
      if (fastEnd > done) {
        if (nul !== -1 && nul < done) nul = input.indexOf('\0', done);
        // Lines without a quote are plain CSV unless U+0000 is among them.
        done = this.parseFast(input, done, fastEnd, nul === -1 || nul >= fastEnd, out);
      }
      if (quote === -1) break;
      // The line with the quote: read its record directly when it is well-formed, else through papaparse.
      const fields: string[] = [];
      const end = readQuotedRecord(input, done, final, fields);
      if (end === INCOMPLETE) break;
      if (end !== MALFORMED && (this.expectedFields === 0 || fields.length === this.expectedFields)) {
        out.push({
          line: this.line,
          fields,
          text: input,
          start: done,
          end,
          problem: null,
          lineHash: null,
          plain: false,
        });
        this.line += countNewlines(input, done, end);
        done = end;
        continue;
      }
      const slow = this.parseQuoted(input, done, final, out);
      done = slow.done;
      broken = slow.broken;
      if (slow.finished) break;
    }
    if (broken === -1 && !final) {
      const nl = input.indexOf('\n', done);
      if (nl === -1 && overUtf8(input, done, input.length, this.limits.maxLineBytes)) {
        // One line, unfinished and already too long: keep its start for the reject, skip the rest as it comes.
        const kept = detach(
          cutUtf8(input.slice(done, done + this.limits.maxRejectLineBytes), this.limits.maxRejectLineBytes),
        );
        this.skipping = { line: this.line, kept, bytes: utf8Length(input, done, input.length) };
        return null;
      }
      if (nl !== -1 && input.length - done > MAX_RECORD_CHARS) broken = done;
    }
    if (broken === -1) {
      this.pending = input.slice(done);
      this.pendingNul = nul !== -1 && (nul >= done || input.indexOf('\0', done) !== -1);
      return null;
    }
    const nl = input.indexOf('\n', broken);
    const lineEnd = nl === -1 ? input.length : nl + 1;
    const contentTo = nl === -1 ? lineEnd : nl;
    let problem: RecordProblem;
    const { maxLineBytes } = this.limits;
    if (overUtf8(input, broken, contentTo, maxLineBytes))
      problem = lineTooLong(utf8Length(input, broken, contentTo), maxLineBytes);
    else {
      // An odd number of quotes on the line means one was opened and never closed on it.
      const quotes = input.slice(broken, lineEnd).split('"').length - 1;
      problem = quotes % 2 === 1 ? UNTERMINATED_QUOTE : BAD_QUOTE;
    }
    out.push({
      line: this.line,
      fields: [],
      text: input,
      start: broken,
      end: lineEnd,
      problem,
      lineHash: null,
      plain: false,
    });
    if (nl !== -1) this.line += 1;
    return lineEnd;
  }

  /**
   * Splits the quote-free lines input[from, to) on commas: one record a line. Without quotes a
   * comma always ends a field, so this is exactly what a quote-aware parse gives, in one pass over
   * the characters and without papaparse's per-row bookkeeping (about 2.5× faster than its fast
   * mode, which is a split on line feeds and then on commas). `to` is a line start, or the end of
   * the last chunk; `plain` when no U+0000 is among the lines (each then becomes a plain record).
   * Returns where the next record starts.
   */
  private parseFast(input: string, from: number, to: number, plain: boolean, out: ParsedRecord[]): number {
    const { hasher, known } = this;
    const units = this.units.of(input);
    let start = from;
    while (start < to) {
      const nl = input.indexOf('\n', start);
      const lineEnd = nl === -1 || nl >= to ? to : nl;
      let lineHash: string | null = null;
      if (hasher !== null && lineEnd > start) {
        hasher.hash(input, start, lineEnd);
        if (known !== null && known(hasher.hi, hasher.lo, this.line)) {
          this.knownLines++;
          if (lineEnd < to) this.line++;
          start = lineEnd + 1;
          continue;
        }
        lineHash = hasher.lastHex();
      }
      out.push({
        line: this.line,
        fields: splitFields(input, units, start, lineEnd, this.expectedFields),
        text: input,
        start,
        end: lineEnd < to ? lineEnd + 1 : to,
        problem: null,
        lineHash,
        plain,
      });
      if (lineEnd < to) this.line++;
      start = lineEnd + 1;
    }
    return to;
  }

  /**
   * Parses records from `from` (a record start at a line with a quote) in papaparse's normal
   * mode, until one ends where the next line holds no quote (then `finished` is false and fast
   * mode resumes at `done`), the input ends, or a broken record is found.
   */
  private parseQuoted(
    input: string,
    from: number,
    final: boolean,
    out: ParsedRecord[],
  ): { done: number; broken: number; finished: boolean } {
    let done = from;
    let broken = -1;
    let resume = false;
    let nextQuote = from;
    const parser = new Papa.Parser({
      ...PARSER_OPTIONS,
      // The bare Parser hands step the rows parsed since the last call: always exactly one.
      step: (result: StepResult) => {
        const row = result.data[0] ?? [];
        const start = done;
        const end = result.meta.cursor;
        const lines = countNewlines(input, start, end);
        const spansLines = lines > 1 || (lines === 1 && input.charCodeAt(end - 1) !== 10);
        const quoteError = result.errors.length > 0;
        const wrongCount =
          this.expectedFields > 0 && row.length !== this.expectedFields && !(row.length === 1 && row[0] === '');
        if ((quoteError || wrongCount) && spansLines) {
          broken = start;
          parser.abort();
          return;
        }
        done = end;
        out.push({
          line: this.line,
          fields: row,
          text: input,
          start,
          end,
          problem: quoteError ? BAD_QUOTE : null,
          lineHash: null,
          plain: false,
        });
        this.line += lines;
        // Back to fast mode when the next line is whole and holds no quote.
        if (nextQuote !== -1 && nextQuote < end) nextQuote = input.indexOf('"', end);
        const nl = input.indexOf('\n', end);
        if (nl !== -1 && (nextQuote === -1 || nl < nextQuote)) {
          resume = true;
          parser.abort();
        }
      },
    });
    parser.parse(input.slice(from), from, !final);
    return { done, broken, finished: !resume };
  }
}

/** Thrown (as a value, through `onFileProblem`) when the file as a whole cannot be read. */
export interface FileProblem {
  readonly code: 'ETL_PARSE_EMPTY_FILE' | HeaderProblem['code'];
  readonly message: string;
}

/**
 * Streams a CSV file as batches of raw records. Blank lines are skipped. If the file cannot be
 * read as a table at all (no header; a bad, reserved or repeated header name; a missing key
 * column) `onFileProblem` is told and nothing is yielded; I/O errors throw. `known`, asked before each chunk, may recognise
 * quote-free lines by their line hash; those are counted in the batch's `known`, not read.
 */
export async function* readCsvRecords(
  source: Source,
  file: string,
  layout: TableLayout,
  notice: NoticeSink,
  onFileProblem: (problem: FileProblem) => void,
  known: () => KnownLineTest | null = () => null,
  limits: LineLimits = DEFAULT_LINE_LIMITS,
): AsyncGenerator<RecordBatch> {
  const splitter = new CsvRecordSplitter(limits);
  let columns: FileColumns | null = null;
  let fingerprint = '';
  let encoding = layout.encoding;
  const onEncoding = (used: string, bom: boolean): void => {
    encoding = used;
    if (bom && used !== layout.encoding)
      notice({
        severity: 'info',
        code: 'ETL_PARSE_ENCODING_MISMATCH',
        file,
        message: `a UTF-8 byte-order mark was found; the file is read as UTF-8, not ${layout.encoding}`,
      });
  };
  for await (const chunk of readTextChunks(source, layout.encoding, onEncoding)) {
    const mayHoldNul = chunk.mayHoldNul;
    for (const [text, final] of columns ? [[chunk.text, chunk.final] as const] : headerFirst(chunk.text, chunk.final)) {
      // Each piece's records are parsed into a fresh array, which is then compacted in place and yielded.
      const records: ParsedRecord[] = [];
      splitter.known = known();
      splitter.knownLines = 0;
      splitter.push(text, final, records, mayHoldNul);
      let from = 0;
      if (!columns) {
        const header = records[0];
        if (!header) {
          if (final) onFileProblem({ code: 'ETL_PARSE_EMPTY_FILE', message: 'the file is empty: no header row' });
          continue;
        }
        const mapped = mapHeader(header.fields, layout, file, notice);
        if ('problem' in mapped) {
          onFileProblem({ code: mapped.code, message: mapped.problem });
          return;
        }
        columns = mapped.columns;
        splitter.expectedFields = columns.present;
        fingerprint = lineFingerprint(columns, 'csv', encoding, layout.primaryKey ?? []);
        splitter.hasher = new LineHasher(fingerprint, splitter.units);
        from = 1;
      }
      const hasher = splitter.hasher as LineHasher;
      const present = columns.present;
      // Encoding checks cost a scan per field, so only text that shows a problem gets them.
      let checkedText = '';
      let checkText = false;
      let kept = 0;
      // The next U+0000 in `nulText` at or after `nulAt` (-1: none): one search per NUL, not per record.
      let nulText = '';
      let nulAt = -1;
      for (let i = from; i < records.length; i++) {
        const r = records[i] as ParsedRecord;
        const fields = r.fields;
        if (fields.length === 1 && fields[0] === '' && !r.problem) continue;
        // A whole line over the limit that arrived within one stretch of text is refused as one skipped is.
        if (!r.problem && overUtf8(r.text, r.start, contentEnd(r), limits.maxLineBytes)) {
          r.problem = lineTooLong(utf8Length(r.text, r.start, contentEnd(r)), limits.maxLineBytes);
        }
        // A plain line holds no U+0000; any other record is looked at, before any value is converted.
        if (!r.problem && !r.plain) {
          if (r.text !== nulText || (nulAt !== -1 && nulAt < r.start)) {
            nulText = r.text;
            nulAt = r.text.indexOf('\0', r.start);
          }
          if (nulAt !== -1 && nulAt < r.end) r.problem = nulProblem(fields, columns.columns);
        }
        if (!r.problem) {
          if (fields.length !== present) {
            r.problem = {
              code: 'ETL_PARSE_FIELD_COUNT',
              message: `the record has ${fields.length} fields, the header has ${present}`,
              field: null,
            };
          } else {
            if (r.text !== checkedText) {
              checkedText = r.text;
              checkText = textNeedsEncodingCheck(r.text, encoding);
            }
            if (checkText) r.problem = checkEncoding(fields, columns.columns, encoding);
          }
        }
        // Quoted records (and a first stretch parsed with a quoted header) are hashed here. One a
        // stored row was read from is as known as a plain line: counted, not read further.
        if (r.problem) r.lineHash = null;
        else if (r.lineHash === null) {
          hasher.hash(r.text, r.start, contentEnd(r));
          if (splitter.known !== null && splitter.known(hasher.hi, hasher.lo, r.line)) {
            splitter.knownLines++;
            continue;
          }
          r.lineHash = hasher.lastHex();
        }
        records[kept++] = r;
      }
      records.length = kept;
      // The first batch goes out even when empty, so a header-only file still tells its columns.
      if (kept > 0 || from === 1 || splitter.knownLines > 0)
        yield { columns, records, known: splitter.knownLines, fingerprint, bytesRead: chunk.bytesRead };
    }
  }
}

/**
 * The first stretch of text as the header line alone, then the rest: the header's batch (no rows)
 * goes out before any data line is parsed, so the caller can learn the columns, read what it
 * already holds, and have every data line checked against it (see `known`). Only a plain header
 * line is split off; one with a quote (a field may span lines) is parsed with its stretch.
 */
function headerFirst(text: string, final: boolean): ReadonlyArray<readonly [string, boolean]> {
  const nl = text.indexOf('\n');
  if (nl === -1 || nl === text.length - 1) return [[text, final]];
  const header = text.slice(0, nl + 1);
  if (header.includes('"') || header.trim() === '') return [[text, final]];
  return [
    [header, false],
    [text.slice(nl + 1), final],
  ];
}
