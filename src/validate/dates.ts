import type { DateFormat } from '../layouts/index.js';

/**
 * Date parsing for the three forms exports use, told apart by shape: eduHub `d/MM/yyyy h:mm:ss tt`
 * (time optional, AM/PM invariant), fixed-width `YYYYMMDD`, and ISO 8601. Values come out as
 * `YYYY-MM-DD` (date) or `YYYY-MM-DD HH:MM:SS` (datetime): CASES times carry no zone, and this
 * form sorts, hashes and loads the same on SQLite and PostgreSQL.
 */

export type DateResult = { ok: true; value: string | null } | { ok: false; reason: 'shape' | 'calendar' };

const EDUHUB = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?$/;
const YYYYMMDD = /^(\d{4})(\d{2})(\d{2})$/;
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

function daysInMonth(year: number, month: number): number {
  if (month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) return 29;
  return DAYS[month - 1] ?? 0;
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

function build(y: number, mo: number, d: number, h: number, mi: number, s: number, withTime: boolean): DateResult {
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59)
    return { ok: false, reason: 'calendar' };
  const date = `${String(y).padStart(4, '0')}-${pad2(mo)}-${pad2(d)}`;
  return { ok: true, value: withTime ? `${date} ${pad2(h)}:${pad2(mi)}:${pad2(s)}` : date };
}

/**
 * Parses `text` (already known non-empty) in `format`. `withTime` selects datetime output.
 * `00000000`, the fixed-width convention for "no date", reads as null.
 */
export function parseDate(text: string, format: DateFormat, withTime: boolean): DateResult {
  const t = text.trim();
  if ((format === 'auto' || format === 'eduhub') && t.includes('/')) {
    const m = EDUHUB.exec(t);
    if (!m) return { ok: false, reason: 'shape' };
    let h = m[4] === undefined ? 0 : Number(m[4]);
    const ampm = m[7]?.toUpperCase();
    if (ampm) {
      if (h < 1 || h > 12) return { ok: false, reason: 'calendar' };
      if (ampm === 'AM' && h === 12) h = 0;
      else if (ampm === 'PM' && h !== 12) h += 12;
    }
    return build(Number(m[3]), Number(m[2]), Number(m[1]), h, Number(m[5] ?? 0), Number(m[6] ?? 0), withTime);
  }
  if ((format === 'auto' || format === 'yyyymmdd') && t.length === 8) {
    const m = YYYYMMDD.exec(t);
    if (m) {
      if (t === '00000000') return { ok: true, value: null };
      return build(Number(m[1]), Number(m[2]), Number(m[3]), 0, 0, 0, withTime);
    }
  }
  if (format === 'auto' || format === 'iso') {
    const m = ISO.exec(t);
    if (m)
      return build(
        Number(m[1]),
        Number(m[2]),
        Number(m[3]),
        Number(m[4] ?? 0),
        Number(m[5] ?? 0),
        Number(m[6] ?? 0),
        withTime,
      );
  }
  return { ok: false, reason: 'shape' };
}

/** Returned by `readEduhubDate` for a well-formed but impossible date or time. */
export const NOT_A_CALENDAR_DATE = 0;

const PAD2 = Array.from({ length: 60 }, (_, i) => pad2(i));
/** `YYYY-MM-DD` by y·512 + m·32 + d; exports repeat a few thousand dates endlessly. */
const datePart = new Map<number, string>();
const DATE_PART_CACHE = 1 << 14;

/**
 * The shape eduHub writes nearly every date in, `d/MM/yyyy h:mm:ss AM` (or a bare `d/MM/yyyy`),
 * read with a few character tests instead of a regular expression: a file has several dates a
 * row, and last-write times are too varied for a cache of whole texts. Gives exactly what
 * `parseDate` gives for the texts it accepts, NOT_A_CALENDAR_DATE for an impossible date or
 * time, and undefined for any other shape (leading spaces, lower-case "am", no seconds, …),
 * which `parseDate` then reads.
 */
export function readEduhubDate(t: string, withTime: boolean): string | typeof NOT_A_CALENDAR_DATE | undefined {
  const len = t.length;
  if (len < 8) return undefined;
  let i = 0;
  let c = t.charCodeAt(0) - 48;
  if (c < 0 || c > 9) return undefined;
  let d = c;
  c = t.charCodeAt(1) - 48;
  if (c >= 0 && c <= 9) {
    d = d * 10 + c;
    i = 2;
  } else i = 1;
  if (t.charCodeAt(i) !== 47) return undefined;
  c = t.charCodeAt(++i) - 48;
  if (c < 0 || c > 9) return undefined;
  let mo = c;
  c = t.charCodeAt(++i) - 48;
  if (c >= 0 && c <= 9) {
    mo = mo * 10 + c;
    i++;
  }
  if (t.charCodeAt(i) !== 47 || i + 5 > len) return undefined;
  let y = 0;
  for (let k = i + 1; k < i + 5; k++) {
    c = t.charCodeAt(k) - 48;
    if (c < 0 || c > 9) return undefined;
    y = y * 10 + c;
  }
  i += 5;
  let h = 0;
  let mi = 0;
  let s = 0;
  if (i !== len) {
    // " h:mm:ss AM" or " hh:mm:ss PM", nothing else.
    const rest = len - i;
    if (rest !== 11 && rest !== 12) return undefined;
    if (t.charCodeAt(i) !== 32) return undefined;
    c = t.charCodeAt(++i) - 48;
    if (c < 0 || c > 9) return undefined;
    h = c;
    if (rest === 12) {
      c = t.charCodeAt(++i) - 48;
      if (c < 0 || c > 9) return undefined;
      h = h * 10 + c;
    }
    if (t.charCodeAt(++i) !== 58) return undefined;
    const m1 = t.charCodeAt(++i) - 48;
    const m2 = t.charCodeAt(++i) - 48;
    if (m1 < 0 || m1 > 9 || m2 < 0 || m2 > 9 || t.charCodeAt(++i) !== 58) return undefined;
    const s1 = t.charCodeAt(++i) - 48;
    const s2 = t.charCodeAt(++i) - 48;
    if (s1 < 0 || s1 > 9 || s2 < 0 || s2 > 9 || t.charCodeAt(++i) !== 32) return undefined;
    const ap = t.charCodeAt(++i);
    if ((ap !== 65 && ap !== 80) || t.charCodeAt(++i) !== 77) return undefined;
    mi = m1 * 10 + m2;
    s = s1 * 10 + s2;
    if (h < 1 || h > 12) return NOT_A_CALENDAR_DATE;
    if (ap === 65) {
      if (h === 12) h = 0;
    } else if (h !== 12) h += 12;
  }
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || mi > 59 || s > 59) return NOT_A_CALENDAR_DATE;
  const key = y * 512 + mo * 32 + d;
  let date = datePart.get(key);
  if (date === undefined) {
    date = `${String(y).padStart(4, '0')}-${pad2(mo)}-${pad2(d)}`;
    if (datePart.size >= DATE_PART_CACHE) datePart.clear();
    datePart.set(key, date);
  }
  return withTime ? `${date} ${PAD2[h] as string}:${PAD2[mi] as string}:${PAD2[s] as string}` : date;
}

/** Human description of what a format accepts, for reject messages. */
export function describeDateFormat(format: DateFormat): string {
  switch (format) {
    case 'eduhub':
      return 'd/MM/yyyy h:mm:ss tt';
    case 'yyyymmdd':
      return 'YYYYMMDD';
    case 'iso':
      return 'ISO 8601 (YYYY-MM-DD)';
    case 'auto':
      return 'd/MM/yyyy h:mm:ss tt, YYYYMMDD or ISO 8601';
  }
}
