import Papa from 'papaparse';

import type { ColumnLayout, TableLayout } from '../layouts/index.js';
import { textNeedsEncodingCheck } from './decode.js';
import { checkEncoding } from './encoding-check.js';
import { countNewlines, type FileColumns, type NoticeSink, type RawRecord, type RecordBatch, type RecordProblem } from './records.js';
import { readTextChunks } from './text.js';

/**
 * eduHub CSV: a header row of CASES column names, comma-delimited, double-quoted with `""` for a
 * quote, commas and line breaks allowed inside quotes. Parsing is papaparse's (chosen on speed and
 * correctness, see docs/csv-parser.md) driven chunk by chunk so a file is never held whole; this
 * module adds line numbers, the original text of each record, header mapping by name, and
 * recovery from a broken quote so that one bad record costs one line, not the rest of the file.
 */

/** A record longer than this is taken to be an unterminated quote swallowing the file. */
export const MAX_RECORD_CHARS = 1 << 20;

interface ParsedRecord {
  line: number;
  row: string[];
  text: string;
  start: number;
  end: number;
  problem: RecordProblem | null;
}

const BAD_QUOTE: RecordProblem = {
  code: 'ETL_PARSE_BAD_QUOTE',
  message: 'a quoted field is malformed: a closing quote is followed by something other than a comma or line end; this line is rejected',
  field: null,
};
const UNTERMINATED_QUOTE: RecordProblem = {
  code: 'ETL_PARSE_UNTERMINATED_QUOTE',
  message: 'a quoted field is never closed; this line is rejected and reading resumes on the next line',
  field: null,
};

/**
 * Splits normalised text into records, carrying an incomplete last record to the next chunk.
 * A record that is malformed (bad quote, or the wrong number of fields) and spans several lines
 * is most likely an unbalanced quote that swallowed its neighbours: only its first line is
 * rejected, and parsing restarts on the line after it.
 */
class CsvRecordSplitter {
  private pending = '';
  private line = 1;
  /** Fields a record should have, once the header is known; 0 before. */
  expectedFields = 0;

  push(chunk: string, final: boolean, out: ParsedRecord[]): void {
    let input = this.pending + chunk;
    this.pending = '';
    for (;;) {
      const restartAt = this.parseOnce(input, final, out);
      if (restartAt === null) return;
      input = input.slice(restartAt);
    }
  }

  /** Parses `input`; returns where to restart after rejecting a first line, or null when done. */
  private parseOnce(input: string, final: boolean, out: ParsedRecord[]): number | null {
    let prevEnd = 0;
    let broken = -1;

    const parser = new Papa.Parser({
      delimiter: ',',
      newline: '\n',
      quoteChar: '"',
      // The bare Parser hands step the rows parsed since the last call: always exactly one.
      step: (result: { data: string[][]; errors: Array<{ code: string }>; meta: { cursor: number } }) => {
        const row = result.data[0] ?? [];
        const start = prevEnd;
        const end = result.meta.cursor;
        prevEnd = end;
        const lines = countNewlines(input, start, end);
        const spansLines = lines > 1 || (lines === 1 && input.charCodeAt(end - 1) !== 10);
        const quoteError = result.errors.length > 0;
        const wrongCount = this.expectedFields > 0 && row.length !== this.expectedFields && !(row.length === 1 && row[0] === '');
        if ((quoteError || wrongCount) && spansLines) {
          broken = start;
          parser.abort();
          return;
        }
        out.push({ line: this.line, row, text: input, start, end, problem: quoteError ? BAD_QUOTE : null });
        this.line += lines;
      },
    });
    parser.parse(input, 0, !final);
    if (broken === -1 && !final && input.length - prevEnd > MAX_RECORD_CHARS) broken = prevEnd;
    if (broken === -1) {
      this.pending = input.slice(prevEnd);
      return null;
    }
    const nl = input.indexOf('\n', broken);
    const lineEnd = nl === -1 ? input.length : nl + 1;
    // An odd number of quotes on the line means one was opened and never closed on it.
    const quotes = input.slice(broken, lineEnd).split('"').length - 1;
    out.push({ line: this.line, row: [], text: input, start: broken, end: lineEnd, problem: quotes % 2 === 1 ? UNTERMINATED_QUOTE : BAD_QUOTE });
    if (nl !== -1) this.line += 1;
    return lineEnd;
  }
}

/** Names for a message: all of a short list, the first ten of a long one. */
function listSome(names: readonly string[], max = 10): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

function profileColumn(name: string): ColumnLayout {
  return { name, type: 'string', maxLength: null, format: 'auto', required: false, start: null, width: null, references: null, description: null };
}

/**
 * Maps a header to the layout by name (never by position): columns in file order, unknown names
 * kept as text, layout columns the file lacks appended (they read as null). Returns the problem
 * that makes the file unreadable, if any.
 */
export function mapHeader(header: readonly string[], layout: TableLayout, file: string, notice: NoticeSink): { columns: FileColumns } | { problem: string; code: 'ETL_PARSE_DUPLICATE_HEADER' | 'ETL_PARSE_KEY_COLUMN_MISSING' } {
  const byName = new Map(layout.columns.map((c) => [c.name, c] as const));
  const names = header.map((h) => h.trim().toUpperCase());
  const seen = new Set<string>();
  const columns: ColumnLayout[] = [];
  const extra: string[] = [];
  for (const name of names) {
    if (seen.has(name)) return { code: 'ETL_PARSE_DUPLICATE_HEADER', problem: `the header names column ${name} twice` };
    seen.add(name);
    const known = byName.get(name);
    if (known) columns.push(known);
    else {
      columns.push(profileColumn(name));
      extra.push(name);
    }
  }
  const missingKey = (layout.primaryKey ?? []).filter((k) => !seen.has(k));
  if (missingKey.length > 0) {
    return { code: 'ETL_PARSE_KEY_COLUMN_MISSING', problem: `the header lacks the key column${missingKey.length > 1 ? 's' : ''} ${missingKey.join(', ')} of table ${layout.table}` };
  }
  const missing = layout.columns.filter((c) => !seen.has(c.name));
  if (extra.length > 0 && layout.columns.length > 0) {
    notice({
      severity: 'warning',
      code: 'ETL_PARSE_UNKNOWN_COLUMN',
      file,
      message: `${extra.length} column${extra.length > 1 ? 's' : ''} not in the ${layout.table} layout, kept as text: ${extra.join(', ')}`,
    });
  }
  if (missing.length > 0) {
    notice({
      severity: 'info',
      code: 'ETL_PARSE_MISSING_COLUMNS',
      file,
      message: `${missing.length} ${layout.table} column${missing.length > 1 ? 's' : ''} not in the file, read as null: ${listSome(missing.map((c) => c.name))}`,
    });
  }
  return { columns: { columns: [...columns, ...missing], present: names.length, extra, missing: missing.map((c) => c.name) } };
}

function toRawRecord(p: ParsedRecord, columns: FileColumns, checkText: boolean, encoding: string): RawRecord {
  let problem = p.problem;
  if (!problem && p.row.length !== columns.present) {
    problem = { code: 'ETL_PARSE_FIELD_COUNT', message: `the record has ${p.row.length} fields, the header has ${columns.present}`, field: null };
  }
  if (!problem && checkText) problem = checkEncoding(p.row, columns.columns, encoding);
  return { line: p.line, fields: p.row, text: p.text, start: p.start, end: p.end, problem };
}

/** Thrown (as a value, through `onFileProblem`) when the file as a whole cannot be read. */
export interface FileProblem {
  readonly code: 'ETL_PARSE_EMPTY_FILE' | 'ETL_PARSE_DUPLICATE_HEADER' | 'ETL_PARSE_KEY_COLUMN_MISSING';
  readonly message: string;
}

/**
 * Streams a CSV file as batches of raw records. Blank lines are skipped. If the file cannot be
 * read as a table at all (no header, a duplicate or missing key column) `onFileProblem` is told
 * and nothing is yielded; I/O errors throw.
 */
export async function* readCsvRecords(
  path: string,
  file: string,
  layout: TableLayout,
  notice: NoticeSink,
  onFileProblem: (problem: FileProblem) => void,
): AsyncGenerator<RecordBatch> {
  const splitter = new CsvRecordSplitter();
  let columns: FileColumns | null = null;
  let encoding = layout.encoding;
  const parsed: ParsedRecord[] = [];
  const onEncoding = (used: string, bom: boolean): void => {
    encoding = used;
    if (bom && used !== layout.encoding) notice({ severity: 'info', code: 'ETL_PARSE_ENCODING_MISMATCH', file, message: `a UTF-8 byte-order mark was found; the file is read as UTF-8, not ${layout.encoding}` });
  };
  for await (const { text, final } of readTextChunks(path, layout.encoding, onEncoding)) {
    parsed.length = 0;
    splitter.push(text, final, parsed);
    let from = 0;
    if (!columns) {
      const header = parsed[0];
      if (!header) {
        if (final) onFileProblem({ code: 'ETL_PARSE_EMPTY_FILE', message: 'the file is empty: no header row' });
        continue;
      }
      const mapped = mapHeader(header.row, layout, file, notice);
      if ('problem' in mapped) {
        onFileProblem({ code: mapped.code, message: mapped.problem });
        return;
      }
      columns = mapped.columns;
      splitter.expectedFields = columns.present;
      from = 1;
    }
    // Encoding checks cost a scan per field, so only text that shows a problem gets them.
    let checkedText = '';
    let checkText = false;
    const records: RawRecord[] = [];
    for (let i = from; i < parsed.length; i++) {
      const p = parsed[i] as ParsedRecord;
      if (p.row.length === 1 && p.row[0] === '' && !p.problem) continue;
      if (p.text !== checkedText) {
        checkedText = p.text;
        checkText = textNeedsEncodingCheck(p.text, encoding);
      }
      records.push(toRawRecord(p, columns, checkText, encoding));
    }
    // The first batch goes out even when empty, so a header-only file still tells its columns.
    if (records.length > 0 || from === 1) yield { columns, records };
  }
}
