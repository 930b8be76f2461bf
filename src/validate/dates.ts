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
  if (month === 2 && (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0))) return 29;
  return DAYS[month - 1] ?? 0;
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

function build(y: number, mo: number, d: number, h: number, mi: number, s: number, withTime: boolean): DateResult {
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59) return { ok: false, reason: 'calendar' };
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
    if (m) return build(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0), withTime);
  }
  return { ok: false, reason: 'shape' };
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
