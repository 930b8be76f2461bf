import type { Value } from '../schema/index.js';
import type { ErrorCode } from '../errors/index.js';
import { detach } from '../extract/index.js';
import type { ColumnLayout } from '../layouts/index.js';
import { describeDateFormat, NOT_A_CALENDAR_DATE, parseDate, readEduhubDate } from './dates.js';

/** A typed value: text, a number, or null. Decimals stay text so money keeps its exact digits. */
export type { Value };

/** Why a value failed, without the value itself: messages may reach logs and must not carry personal data. */
export interface ConversionFailure {
  readonly code: ErrorCode;
  readonly message: string;
}

/** Converts a non-empty field; returns the value or a failure. */
export type Converter = (text: string) => Value | ConversionFailure;

export function isFailure(v: Value | ConversionFailure): v is ConversionFailure {
  return v !== null && typeof v === 'object';
}

const INT = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)$/;
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

const RANGES = { smallint: [-32768, 32767], int: [-2147483648, 2147483647] } as const;

function intConverter(col: ColumnLayout, kind: 'smallint' | 'int'): Converter {
  const [min, max] = RANGES[kind];
  const notInt: ConversionFailure = { code: 'ETL_TYPE_INT', message: `${col.name} must be a whole number` };
  const range: ConversionFailure = {
    code: 'ETL_TYPE_INT_RANGE',
    message: `${col.name} is outside the ${kind} range ${min} to ${max}`,
  };
  return (text) => {
    const t = text.trim();
    if (!INT.test(t)) return notInt;
    const n = Number(t);
    return n < min || n > max ? range : n;
  };
}

function textConverter(col: ColumnLayout): Converter {
  const max = col.maxLength;
  if (max === null) return (text) => text;
  return (text) =>
    text.length > max
      ? { code: 'ETL_ROW_TOO_LONG', message: `${col.name} has ${text.length} characters, the column allows ${max}` }
      : text;
}

/** Distinct date texts remembered per column; exports repeat the same dates (entry dates, LW_DATE) endlessly. */
const DATE_CACHE_SIZE = 4096;

function dateConverter(col: ColumnLayout, withTime: boolean): Converter {
  const shape: ConversionFailure = {
    code: 'ETL_TYPE_DATE',
    message: `${col.name} is not a date in the form ${describeDateFormat(col.format)}`,
  };
  const calendar: ConversionFailure = {
    code: 'ETL_TYPE_DATE_INVALID',
    message: `${col.name} is not a real calendar date or time`,
  };
  const cache = new Map<string, Value | ConversionFailure>();
  const eduhub = col.format === 'auto' || col.format === 'eduhub';
  return (text) => {
    if (eduhub) {
      const fast = readEduhubDate(text, withTime);
      if (fast !== undefined) return fast === NOT_A_CALENDAR_DATE ? calendar : fast;
    }
    const hit = cache.get(text);
    if (hit !== undefined) return hit;
    const r = parseDate(text, col.format, withTime);
    const value = r.ok ? r.value : r.reason === 'shape' ? shape : calendar;
    if (cache.size >= DATE_CACHE_SIZE) cache.clear();
    cache.set(detach(text), value);
    return value;
  };
}

/** The converter for a column, chosen once per file so the per-field work is one call. */
export function converterFor(col: ColumnLayout): Converter {
  switch (col.type) {
    case 'string':
    case 'flag':
      return textConverter(col);
    case 'smallint':
    case 'int':
      return intConverter(col, col.type);
    case 'decimal': {
      const bad: ConversionFailure = {
        code: 'ETL_TYPE_DECIMAL',
        message: `${col.name} must be a number written with a dot and no thousands separator`,
      };
      return (text) => {
        const t = text.trim();
        return DECIMAL.test(t) ? (t.startsWith('+') ? t.slice(1) : t) : bad;
      };
    }
    case 'float': {
      const bad: ConversionFailure = { code: 'ETL_TYPE_DECIMAL', message: `${col.name} must be a number` };
      return (text) => {
        const t = text.trim();
        return FLOAT.test(t) ? Number(t) : bad;
      };
    }
    case 'date':
      return dateConverter(col, false);
    case 'datetime':
      return dateConverter(col, true);
    case 'bytes':
      // eduHub does not encode binary columns (pictures); whatever is there is ignored.
      return () => null;
  }
}
