import { EtlError } from '../errors/index.js';
import { proposeType } from './infer-types.js';
import type { ColumnType, DateFormat, TableLayout } from './types.js';

/**
 * `layouts infer` for an eduHub CSV: its header against the built-in layout of its table.
 * Columns the layout does not know (a new CASES21 release) get a type proposed from their
 * values; columns the layout has and the file lacks are listed. Pure: sample lines in.
 */

export interface UnknownColumn {
  readonly name: string;
  readonly type: ColumnType;
  readonly format: DateFormat | null;
  /** Rows of the sample with a value in it. */
  readonly filled: number;
}

export interface CsvHeaderReport {
  /** The header's columns, upper case, as in the file. */
  readonly header: readonly string[];
  /** Header columns the layout knows. */
  readonly known: number;
  readonly unknown: readonly UnknownColumn[];
  /** Layout columns missing from the header. */
  readonly missing: readonly string[];
  /** Data rows looked at. */
  readonly rows: number;
}

/**
 * Compares a CSV sample (header line first) with `layout`. (Async only to load the CSV parser.) Throws ETL_LAYOUT_INFER_EMPTY when
 * there is no header.
 */
export async function reportCsvHeader(
  lines: readonly string[],
  layout: TableLayout,
  file = 'the file',
): Promise<CsvHeaderReport> {
  // Loaded here, not at start-up: only this command and a run read CSV.
  const mod = await import('papaparse');
  // papaparse is CommonJS: under Node's ESM its API is the default export.
  const Papa = (mod as unknown as { default: typeof mod }).default;
  const parsed = Papa.parse<string[]>(lines.join('\n'), { skipEmptyLines: true });
  const [head, ...rows] = parsed.data;
  if (!head || head.every((h) => h.trim() === ''))
    throw new EtlError(
      'ETL_LAYOUT_INFER_EMPTY',
      `${file} has no header line to compare with the ${layout.table} layout`,
    );
  const header = head.map((h) => h.trim().toUpperCase());
  const known = new Set(layout.columns.map((c) => c.name));
  const unknown: UnknownColumn[] = [];
  header.forEach((name, i) => {
    if (known.has(name)) return;
    const values = rows.map((r) => (r[i] ?? '').trim()).filter((v) => v !== '');
    const proposed = proposeType({ values, leftAligned: false, rightAligned: false });
    unknown.push({ name, type: proposed.type, format: proposed.format, filled: values.length });
  });
  const present = new Set(header);
  return {
    header,
    known: header.filter((h) => known.has(h)).length,
    unknown,
    missing: layout.columns.map((c) => c.name).filter((c) => !present.has(c)),
    rows: rows.length,
  };
}
