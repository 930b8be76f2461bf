import { isRealDate, isYyyymmdd } from './infer-boundaries.js';
import type { ColumnType, DateFormat } from './types.js';

/**
 * The type a column's values suggest: `date` (with its format) when every value is a real date
 * in one shape, `int` for whole numbers without leading zeros that are not left-aligned in a
 * wider field (a left-aligned `10000062` is a code), `decimal` for numbers with a point, `flag`
 * for one letter, else `string`. Pure.
 */
export interface ProposedType {
  readonly type: ColumnType;
  /** Set for dates. */
  readonly format: DateFormat | null;
}

/** Values of one column and how they sat in their field. */
export interface ColumnValues {
  /** Trimmed values, empty ones left out. */
  readonly values: readonly string[];
  /** Some value was shorter than the field and sat at its left (padding after it). */
  readonly leftAligned: boolean;
  /** Some value was shorter than the field and sat at its right (padding before it). */
  readonly rightAligned: boolean;
}

const EDUHUB_DATE = /^(\d{1,2})\/(\d{1,2})\/(\d{4})( \d{1,2}:\d{2}(:\d{2})?( [AP]M)?)?$/i;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z?)?$/;
/** A whole number, and a number with a point, as text. */
export const INT = /^-?\d+$/;
export const DECIMAL = /^-?\d*\.\d+$/;

/** `15/03/2010`, `15/03/2010 12:00:00 AM` → true. */
export function isEduhubDate(v: string): boolean {
  const m = EDUHUB_DATE.exec(v);
  return m !== null && isRealDate(Number(m[3]), Number(m[2]), Number(m[1]));
}

/** `2010-03-15`, `2010-03-15T08:30:00Z` → true. */
export function isIso(v: string): boolean {
  const m = ISO_DATE.exec(v);
  return m !== null && isRealDate(Number(m[1]), Number(m[2]), Number(m[3]));
}

const leadingZero = (v: string): boolean => /^-?0\d/.test(v);

/** Proposes a type from a column's values; a column with no values is text. */
export function proposeType(column: ColumnValues): ProposedType {
  const { values } = column;
  if (values.length === 0) return { type: 'string', format: null };
  if (values.every(isYyyymmdd)) return { type: 'date', format: 'yyyymmdd' };
  if (values.every(isIso)) return { type: 'date', format: 'iso' };
  if (values.every(isEduhubDate)) return { type: 'date', format: 'eduhub' };
  const numeric = !column.leftAligned || column.rightAligned;
  if (numeric && values.every((v) => INT.test(v) && !leadingZero(v))) return { type: 'int', format: null };
  if (
    numeric &&
    values.every((v) => (INT.test(v) || DECIMAL.test(v)) && !leadingZero(v)) &&
    values.some((v) => DECIMAL.test(v))
  )
    return { type: 'decimal', format: null };
  if (values.every((v) => v.length === 1 && v.toLowerCase() !== v.toUpperCase())) return { type: 'flag', format: null };
  return { type: 'string', format: null };
}
