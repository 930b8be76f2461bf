import { basename } from 'node:path';

import { loadBuiltinLayouts, type ColumnType, type TableLayout } from '../layouts/index.js';
import { eduhubDate, eduhubDateTime } from './calendar.js';
import type { GeneratedFile } from './options.js';
import { NEEDS_CP1252_MAP, createTextSink, type TextSink } from './sink.js';

/**
 * Writes one eduHub CSV file: a header with every column of the built-in layout in declared
 * order, then one line per row, CRLF, comma-delimited, a field quoted only when it holds a
 * comma, quote, CR or LF. Values are checked against the column as they are set, so a generator
 * bug (a code one character too long, a date in an int column) fails loudly instead of producing
 * a sample the ETL would reject.
 */

/** The current row of a table: set the columns that have values; the rest stay empty. */
export interface RowBuilder {
  /** A string or flag column. Null, undefined and '' leave it empty. */
  text(column: string, value: string | null | undefined): void;
  /** A smallint or int column; checked against the column's range. */
  int(column: string, value: number | null | undefined): void;
  /** A money (decimal) column, written with two places: `12.50`. */
  money(column: string, value: number | null | undefined): void;
  /** A float column, written with at most `places` decimals and no exponent. */
  float(column: string, value: number | null | undefined, places: number): void;
  /** A datetime column holding a date only: midnight, `5/02/2019 12:00:00 AM`. */
  date(column: string, day: number | null | undefined): void;
  /** A datetime column with a time of day in seconds since midnight. */
  dateTime(column: string, day: number, seconds: number): void;
}

/** An open eduHub CSV file. */
export interface CsvTableWriter {
  readonly table: string;
  /** The row being built; `commit` writes it and empties it for the next one. */
  readonly row: RowBuilder;
  /** Writes the current row. Returns a promise only when the file asks the caller to wait. */
  commit(): Promise<void> | undefined;
  /** Flushes and closes the file. */
  close(): Promise<GeneratedFile>;
}

/** The built-in layout of a table the generator writes; they are package data, so absence is a bug. */
export function builtinLayout(table: string): TableLayout {
  const layout = loadBuiltinLayouts().get(table);
  if (!layout) throw new Error(`no built-in layout for ${table}`);
  return layout;
}

const NEEDS_QUOTES = /[",\r\n]/;
/** Either reason to look closer at a text value: quoting, or the slow Windows-1252 path. */
// eslint-disable-next-line no-control-regex
const UNUSUAL = /[",\r\n]|[^\u0000-\u007F\u00A0-\u00FF]/;

/** eduHub's quoting: only when needed, with inner quotes doubled. */
export function quoteCsv(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** The values of the row being built, and which of them are set. */
interface RowState {
  readonly values: string[];
  /** Indexes set since the last reset: clearing them is cheaper than clearing all 211. */
  readonly dirty: number[];
  /** Whether a value holds characters Windows-1252 maps outside Latin-1 (Š, ’, –). */
  mapped: boolean;
}

/** What the builder needs to know about a column, looked up once per name. */
interface Slot {
  readonly index: number;
  readonly type: ColumnType;
  /** The setter that fits the column; null for bytes columns, which stay empty. */
  readonly kind: Kind | null;
  readonly maxLength: number | null;
  /** Integer range for smallint and int columns. */
  readonly min: number;
  readonly max: number;
}

type Kind = 'text' | 'int' | 'money' | 'float' | 'datetime';

const KIND_OF: Readonly<Record<ColumnType, Kind | null>> = {
  string: 'text',
  flag: 'text',
  smallint: 'int',
  int: 'int',
  decimal: 'money',
  float: 'float',
  datetime: 'datetime',
  date: 'datetime',
  bytes: null,
};

/** Builds rows for `layout` into `state`, checking each value against its column. */
function createRowBuilder(layout: TableLayout, state: RowState): RowBuilder {
  const slots = new Map<string, Slot>();
  layout.columns.forEach((c, index) => {
    const [min, max] = c.type === 'smallint' ? [-32768, 32767] : [-2147483648, 2147483647];
    slots.set(c.name, { index, type: c.type, kind: KIND_OF[c.type], maxLength: c.maxLength, min, max });
  });
  const { values, dirty } = state;

  // A column used with the wrong setter is a generator bug: fail on the first row, not in the ETL.
  const column = (name: string, kind: Kind): Slot => {
    const slot = slots.get(name);
    if (!slot) throw new Error(`${layout.table} has no column ${name}`);
    if (slot.kind !== kind) throw new Error(`${layout.table}.${name} is ${slot.type}, not ${kind}`);
    return slot;
  };
  const put = (i: number, text: string): void => {
    if (values[i] === '') dirty.push(i);
    values[i] = text;
  };

  return {
    text(name, value) {
      const slot = column(name, 'text');
      if (value === null || value === undefined || value === '') return;
      if (slot.maxLength !== null && value.length > slot.maxLength) {
        throw new Error(`${layout.table}.${name} holds at most ${slot.maxLength} characters: ${JSON.stringify(value)}`);
      }
      if (UNUSUAL.test(value)) {
        if (NEEDS_CP1252_MAP.test(value)) state.mapped = true;
        put(slot.index, quoteCsv(value));
      } else {
        put(slot.index, value);
      }
    },
    int(name, value) {
      const slot = column(name, 'int');
      if (value === null || value === undefined) return;
      if (!Number.isInteger(value) || value < slot.min || value > slot.max)
        throw new Error(`${layout.table}.${name}: ${value} is out of range`);
      put(slot.index, String(value));
    },
    money(name, value) {
      const slot = column(name, 'money');
      if (value === null || value === undefined) return;
      put(slot.index, value.toFixed(2));
    },
    float(name, value, places) {
      const slot = column(name, 'float');
      if (value === null || value === undefined) return;
      // toFixed never uses an exponent for these magnitudes; trailing zeros are trimmed as .NET does.
      put(
        slot.index,
        value
          .toFixed(places)
          .replace(/(\.\d*?)0+$/, '$1')
          .replace(/\.$/, ''),
      );
    },
    date(name, day) {
      const slot = column(name, 'datetime');
      if (day === null || day === undefined) return;
      put(slot.index, eduhubDate(day));
    },
    dateTime(name, day, seconds) {
      put(column(name, 'datetime').index, eduhubDateTime(day, seconds));
    },
  };
}

/**
 * Opens `path` (normally `<TABLE>_<SCHOOL>.csv`) and writes its header. The header is the
 * layout's columns in order, so the file always carries every built-in column, filled or not.
 */
export function createCsvTableWriter(path: string, layout: TableLayout): CsvTableWriter {
  const name = basename(path);
  const sink: TextSink = createTextSink(path);
  const width = layout.columns.length;
  const state: RowState = { values: new Array<string>(width).fill(''), dirty: [], mapped: false };
  const { values, dirty } = state;
  const required = layout.columns.flatMap((c, i) => (c.required ? [i] : []));
  const row = createRowBuilder(layout, state);
  const commas = Array.from({ length: width }, (_, n) => ','.repeat(n));
  let rows = 0;
  void sink.write(`${layout.columns.map((c) => c.name).join(',')}\r\n`);

  return {
    table: layout.table,
    row,
    commit() {
      for (const i of required) {
        if (values[i] === '')
          throw new Error(`${layout.table}.${layout.columns[i]?.name ?? i} is required but was not set`);
      }
      // Most of a row is empty, so the line is built from the set values and runs of commas
      // rather than joining all columns: this is the hot loop of a 1,000,000-row file.
      // Setters usually run in column order; sort only when they did not.
      for (let k = 1; k < dirty.length; k++) {
        if ((dirty[k] ?? 0) < (dirty[k - 1] ?? 0)) {
          dirty.sort((x, y) => x - y);
          break;
        }
      }
      let line = '';
      let prev = 0;
      for (const i of dirty) {
        line += (commas[i - prev] ?? '') + (values[i] ?? '');
        values[i] = '';
        prev = i;
      }
      line += `${commas[width - 1 - prev] ?? ''}\r\n`;
      const mapped = state.mapped;
      dirty.length = 0;
      state.mapped = false;
      rows++;
      return sink.write(line, mapped);
    },
    async close() {
      const bytes = await sink.close();
      return { name, table: layout.table, rows, bytes };
    },
  };
}
