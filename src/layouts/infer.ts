import { EtlError } from '../errors/index.js';
import { findBoundaries } from './infer-boundaries.js';
import { proposeType } from './infer-types.js';
import type { ColumnType, DateFormat, TableLayout } from './types.js';

/**
 * `layouts infer` for a fixed-width file: boundaries (infer-boundaries.ts), a type per column
 * (infer-types.ts) and names from a known fixed-width layout whose columns line up, else
 * `COL_<start>`. Pure: sample lines and the known layouts in, a proposed `file_layouts` entry out.
 */

export interface InferredColumn {
  readonly name: string;
  readonly start: number;
  readonly width: number;
  readonly type: ColumnType;
  /** Set for dates. */
  readonly format: DateFormat | null;
  /** True when the name came from a known layout (the column lines up with one of its columns). */
  readonly named: boolean;
  /** Lines of the sample with a value in this column. */
  readonly filled: number;
}

export interface InferredLayout {
  /** Lines looked at. */
  readonly lines: number;
  /** The record width: the longest line of the sample. */
  readonly width: number;
  readonly columns: readonly InferredColumn[];
  /** The known layout the names came from (its `originDetail`), or null. */
  readonly namedAfter: string | null;
  /** That layout's table_name, to propose as this entry's. */
  readonly tableName: string | null;
  /** The first column, when its values are present and different on every line of the sample. */
  readonly primaryKey: string | null;
}

/** A `file_layouts` entry as it is written into relationships.json. */
export interface FileLayoutEntry {
  readonly filename: string;
  readonly table_name: string;
  readonly primary_key?: readonly string[];
  readonly columns: readonly {
    readonly name: string;
    readonly start: number;
    readonly width: number;
    readonly type: ColumnType;
    readonly format?: DateFormat;
  }[];
}

/** Columns that line up: how many of `known`'s columns have exactly a proposed start and width. */
function lineUp(columns: readonly { start: number; width: number }[], known: TableLayout): Map<number, string> {
  const names = new Map<number, string>();
  for (const c of known.columns) {
    if (c.start === null || c.width === null) continue;
    if (columns.some((p) => p.start === c.start && p.width === c.width)) names.set(c.start, c.name);
  }
  return names;
}

/**
 * Infers a layout from sample `lines` (line endings removed). `known` are the fixed-width
 * layouts to borrow names from; one is used when at least half the proposed columns line up
 * with its columns. Throws ETL_LAYOUT_INFER_EMPTY when the sample holds no characters.
 */
export function inferFixedLayout(
  lines: readonly string[],
  known: readonly TableLayout[],
  file = 'the file',
): InferredLayout {
  const sample = lines.filter((l) => l.trim() !== '');
  const width = sample.reduce((w, l) => Math.max(w, l.length), 0);
  if (width === 0)
    throw new EtlError('ETL_LAYOUT_INFER_EMPTY', `${file} has no lines with characters to infer columns from`);
  const padded = sample.map((l) => l.padEnd(width));
  const found = findBoundaries(padded, width);
  const spans = found.starts.map((start, i) => ({ start, width: (found.starts[i + 1] ?? width) - start }));

  let best: { layout: TableLayout; names: Map<number, string> } | null = null;
  for (const layout of known) {
    if (layout.format !== 'fixed') continue;
    const names = lineUp(spans, layout);
    if (names.size >= Math.max(2, spans.length / 2) && names.size > (best?.names.size ?? 0)) best = { layout, names };
  }

  const columns = spans.map((span): InferredColumn => {
    const date = found.dates.find((d) => d.start === span.start && d.width === span.width);
    let left = false;
    let right = false;
    const values: string[] = [];
    for (const line of padded) {
      const raw = line.slice(span.start, span.start + span.width);
      const value = raw.trim();
      if (value === '') continue;
      values.push(value);
      if (value.length < raw.length) {
        if (raw[0] !== ' ') left = true;
        if (raw[raw.length - 1] !== ' ') right = true;
      }
    }
    const proposed = date
      ? { type: 'date' as const, format: date.format }
      : proposeType({ values, leftAligned: left, rightAligned: right || found.rightAligned.has(span.start) });
    const name = best?.names.get(span.start);
    return {
      ...span,
      type: proposed.type,
      format: proposed.format,
      name: name ?? `COL_${span.start}`,
      named: name !== undefined,
      filled: values.length,
    };
  });

  const first = columns[0];
  let primaryKey: string | null = null;
  if (first && first.filled === padded.length) {
    const keys = new Set(padded.map((l) => l.slice(first.start, first.start + first.width).trim()));
    if (keys.size === padded.length) primaryKey = first.name;
  }
  return {
    lines: sample.length,
    width,
    columns,
    namedAfter: best?.layout.originDetail ?? null,
    tableName: best?.layout.tableName ?? null,
    primaryKey,
  };
}

/** A table name from a file name: `STUDENT.DAT` → `STUDENT`. */
export function tableNameFromFile(fileName: string): string {
  const base = fileName
    .replace(/\.[^.]*$/, '')
    .replace(/[^A-Za-z0-9]/g, '')
    .toUpperCase();
  return /^[A-Z]/.test(base) ? base : `T${base}`;
}

/** The `file_layouts` entry for an inferred layout, ready to paste into relationships.json. */
export function fileLayoutEntry(inferred: InferredLayout, fileName: string, tableName?: string): FileLayoutEntry {
  return {
    filename: fileName,
    table_name: tableName ?? inferred.tableName ?? tableNameFromFile(fileName),
    ...(inferred.primaryKey ? { primary_key: [inferred.primaryKey] } : {}),
    columns: inferred.columns.map((c) => ({
      name: c.name,
      start: c.start,
      width: c.width,
      type: c.type,
      ...(c.format ? { format: c.format } : {}),
    })),
  };
}
