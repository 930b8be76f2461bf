/**
 * Dates for the sample school, as whole days since 1970-01-01 (UTC), and their text forms. The
 * generator never reads the clock: "today" is a fixed extract date, so the output is the same on
 * every run. eduHub writes every date column as `d/MM/yyyy h:mm:ss tt` with the invariant AM/PM
 * marker; date-only fields carry midnight (`12:00:00 AM`).
 */

const MS_PER_DAY = 86_400_000;

/** The day a day number stands for: 1 January 1970 is day 0. */
export function dayOf(year: number, month: number, day: number): number {
  return Date.UTC(year, month - 1, day) / MS_PER_DAY;
}

/** Year, month (1–12) and day of month of a day number. */
export function partsOf(day: number): { year: number; month: number; date: number } {
  const d = new Date(day * MS_PER_DAY);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, date: d.getUTCDate() };
}

/** 0 = Sunday … 6 = Saturday. 1970-01-01 was a Thursday. */
export function weekdayOf(day: number): number {
  return (((day + 4) % 7) + 7) % 7;
}

/** The date the sample extract was taken: a Wednesday in term 3, so every status has history. */
export const EXTRACT_DAY = dayOf(2024, 8, 14);
/** The calendar (and school) year of the extract. */
export const EXTRACT_YEAR = 2024;

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

const dayCache = new Map<number, string>();

/** `5/02/2019`: the date half of an eduHub value. Cached: a sample spans a few thousand days. */
function dayText(day: number): string {
  let text = dayCache.get(day);
  if (text === undefined) {
    const { year, month, date } = partsOf(day);
    text = `${date}/${pad2(month)}/${year}`;
    dayCache.set(day, text);
  }
  return text;
}

/** `5/02/2019 12:00:00 AM`: a date-only eduHub value. */
export function eduhubDate(day: number): string {
  return `${dayText(day)} 12:00:00 AM`;
}

/** `14/03/2024 3:25:41 PM`: an eduHub date and time; `seconds` is the time of day (0–86399). */
export function eduhubDateTime(day: number, seconds: number): string {
  const h24 = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const secs = seconds % 60;
  const h12 = h24 % 12 === 0 ? 12 : h24 % 12;
  return `${dayText(day)} ${h12}:${pad2(minutes)}:${pad2(secs)} ${h24 < 12 ? 'AM' : 'PM'}`;
}

/** `20190205`: the fixed-width form of a date. */
export function yyyymmdd(day: number): string {
  const { year, month, date } = partsOf(day);
  return `${year}${pad2(month)}${pad2(date)}`;
}

/**
 * CASES21 keeps the time of a last write in a smallint (LW_TIME). How it is encoded is not
 * documented; hhmm is the likeliest reading, so 3:25 PM is 1525.
 */
export function hhmm(seconds: number): number {
  return Math.floor(seconds / 3600) * 100 + Math.floor((seconds % 3600) / 60);
}

/** Victorian government school terms in the extract year, as [first day, last day]. */
const TERMS: readonly (readonly [number, number])[] = [
  [dayOf(2024, 1, 30), dayOf(2024, 3, 28)],
  [dayOf(2024, 4, 15), dayOf(2024, 6, 28)],
  [dayOf(2024, 7, 15), dayOf(2024, 9, 20)],
  [dayOf(2024, 10, 7), dayOf(2024, 12, 20)],
];

/** First day of the school year (term 1). */
export const SCHOOL_YEAR_START = dayOf(2024, 1, 30);

/** Weekdays in term from the start of the year up to and including the extract day. */
export function schoolDaysToDate(): number[] {
  const days: number[] = [];
  for (const [first, last] of TERMS) {
    for (let d = first; d <= Math.min(last, EXTRACT_DAY); d++) {
      const wd = weekdayOf(d);
      if (wd !== 0 && wd !== 6) days.push(d);
    }
  }
  return days;
}
