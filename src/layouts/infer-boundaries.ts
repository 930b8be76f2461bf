/**
 * Column boundaries of a fixed-width sample, found from the characters alone. The evidence, in
 * the order it is trusted: windows that hold a real date on every line that is not blank there
 * (`YYYYMMDD`, `YYYY-MM-DD`); numbers that end at the same position on every line (right-aligned,
 * their padding on the left); the start of a value after padding on most lines; a change of
 * character class at the same position on nearly every line (`1MAC0001`: a number, then a key);
 * a one-letter code column next to a column of varied values. Pure: lines in, boundaries out.
 */

/** A date window claimed before anything else, with the shape it was found in. */
export interface DateWindow {
  readonly start: number;
  readonly width: number;
  readonly format: 'yyyymmdd' | 'iso';
}

/** Where the columns are: every start (0 first) and the record width. */
export interface Boundaries {
  readonly starts: readonly number[];
  readonly width: number;
  readonly dates: readonly DateWindow[];
  /** Starts of columns found as right-aligned numbers. */
  readonly rightAligned: ReadonlySet<number>;
}

const isDigit = (c: string): boolean => c >= '0' && c <= '9';
const isLetter = (c: string): boolean => c.toLowerCase() !== c.toUpperCase();
const isBlank = (c: string | undefined): boolean => c === undefined || c === ' ';

/** True for a real calendar day from 1900 to 2099. */
export function isRealDate(year: number, month: number, day: number): boolean {
  if (year < 1900 || year > 2099 || month < 1 || month > 12 || day < 1) return false;
  const days = [
    31,
    year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28,
    31,
    30,
    31,
    30,
    31,
    31,
    30,
    31,
    30,
    31,
  ];
  return day <= (days[month - 1] ?? 0);
}

/** `20100315` → true. */
export function isYyyymmdd(text: string): boolean {
  if (!/^\d{8}$/.test(text)) return false;
  return isRealDate(Number(text.slice(0, 4)), Number(text.slice(4, 6)), Number(text.slice(6, 8)));
}

/** `2010-03-15` → true. */
export function isIsoDate(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  return m !== null && isRealDate(Number(m[1]), Number(m[2]), Number(m[3]));
}

/** The share of values in a window that may fail to parse and still make it a date column. */
const DATE_FAILURE_SHARE = 0.02;

function dateWindowAt(lines: readonly string[], start: number, width: number, test: (t: string) => boolean): boolean {
  let valid = 0;
  let failed = 0;
  const blank = ' '.repeat(width);
  for (const line of lines) {
    const text = line.slice(start, start + width);
    if (text === blank) continue;
    if (test(text)) valid++;
    else if (++failed > DATE_FAILURE_SHARE * lines.length) return false;
  }
  return valid >= Math.min(2, lines.length) && failed <= DATE_FAILURE_SHARE * (valid + failed);
}

/** Date windows, left to right, never overlapping. */
function findDates(lines: readonly string[], width: number): DateWindow[] {
  const out: DateWindow[] = [];
  for (let s = 0; s < width; s++) {
    if (s + 10 <= width && dateWindowAt(lines, s, 10, isIsoDate)) {
      out.push({ start: s, width: 10, format: 'iso' });
      s += 9;
    } else if (s + 8 <= width && dateWindowAt(lines, s, 8, isYyyymmdd)) {
      out.push({ start: s, width: 8, format: 'yyyymmdd' });
      s += 7;
    }
  }
  return out;
}

interface TokenEnd {
  count: number;
  lengths: Set<number>;
  maxLength: number;
  leadingZero: boolean;
  afterLetter: boolean;
}

/**
 * Right-aligned numbers: runs of digits (with a point or a leading minus) that end at the same
 * position on at least 90% of the lines with a character there, never after a letter (the digits
 * of a key such as `MAC0001`) and never with a leading zero (a code such as `07`). Either their
 * lengths vary, or blank padding that no line uses sits before them. Returns [start, end) spans
 * of the digits themselves, keyed by end.
 */
function findNumbers(
  lines: readonly string[],
  width: number,
  hard: readonly boolean[],
  nonBlank: readonly number[],
  minSupport: number,
): Map<number, number> {
  const ends = new Map<number, TokenEnd>();
  for (const line of lines) {
    let p = 0;
    while (p < width) {
      const c = line[p] ?? ' ';
      const starts = isDigit(c) || (c === '-' && isDigit(line[p + 1] ?? ''));
      if (!starts) {
        p++;
        continue;
      }
      const from = p;
      p++;
      while (p < width && !hard[p] && (isDigit(line[p] ?? '') || line[p] === '.')) p++;
      const token = line.slice(from, p);
      const before = from === 0 || hard[from] ? ' ' : (line[from - 1] ?? ' ');
      const e = ends.get(p) ?? { count: 0, lengths: new Set(), maxLength: 0, leadingZero: false, afterLetter: false };
      e.count++;
      e.lengths.add(token.length);
      e.maxLength = Math.max(e.maxLength, token.length);
      const digits = token.replace(/^-/, '');
      if (digits.length > 1 && digits[0] === '0' && digits[1] !== '.') e.leadingZero = true;
      if (!isBlank(before)) e.afterLetter = true;
      ends.set(p, e);
    }
  }
  const out = new Map<number, number>();
  for (const [end, e] of ends) {
    if (e.count < minSupport || e.count < 0.9 * (nonBlank[end - 1] ?? 0) || e.leadingZero || e.afterLetter) continue;
    const first = end - e.maxLength;
    // Numbers of one length need padding before them that no line uses (one blank between digits
    // is inside a number: `0471 268 499`). Long ones are identifiers, written like text: with
    // padding on both sides (`10000062  `) they are taken as left-aligned.
    const paddedBefore = first > 1 && !hard[first] && nonBlank[first - 1] === 0 && nonBlank[first - 2] === 0;
    const flushAfter = end >= width || hard[end] || (nonBlank[end] ?? 0) > 0;
    if (e.lengths.size >= 2 || (paddedBefore && (e.maxLength <= 4 || flushAfter))) out.set(end, first);
  }
  return out;
}

/** True when the `k` characters at `p` are one of at most four codes of capital letters (or blank). */
function codeAt(lines: readonly string[], p: number, k: number): boolean {
  const seen = distinctAt(lines, p, 4, k);
  return seen.size <= 4 && [...seen].every((c) => /^[A-Z]+ *$/.test(c));
}

/**
 * True when the text after the `k`-letter code at `p` (up to the next blank or column start
 * `next`) follows more than one code: `TACTV` and `NACTV` are a code and a status, where `ACTV`
 * and `LEFT` are one word each.
 */
function sharedRest(lines: readonly string[], p: number, k: number, next: number): boolean {
  const before = new Map<string, string>();
  for (const line of lines) {
    const blank = line.indexOf(' ', p + k);
    const rest = line.slice(p + k, blank === -1 ? next : Math.min(blank, next));
    if (rest === '') continue;
    const code = line.slice(p, p + k);
    const seen = before.get(rest);
    if (seen === undefined) before.set(rest, code);
    else if (seen !== code) return true;
  }
  return false;
}

/** Different pairs of a `k`-character code at `p` and the character after it (blanks included). */
function pairsAt(lines: readonly string[], p: number, k = 1): number {
  const pairs = new Set<string>();
  for (const line of lines) pairs.add(line.slice(p, p + k + 1));
  return pairs.size;
}

/** The distinct `k`-character texts at `p` (all-blank ones not counted), counted up to `cap`. */
function distinctAt(lines: readonly string[], p: number, cap: number, k = 1): Set<string> {
  const seen = new Set<string>();
  const blank = ' '.repeat(k);
  for (const line of lines) {
    const c = line.slice(p, p + k);
    if (c !== blank && c !== '') seen.add(c);
    if (seen.size > cap) break;
  }
  return seen;
}

/**
 * A capitalised word at `b` (`ACTVOlivia`: a status filling its field, then a name): a capital
 * letter followed by a small one, after a character that is not a small letter, on nearly every
 * line with a character at `b` (`here` of them) and on at least half of those with one at `b - 1`.
 */
function wordStart(lines: readonly string[], b: number, minSupport: number, here: number, before: number): boolean {
  let words = 0;
  for (const line of lines) {
    const c = line[b] ?? ' ';
    if (c === ' ') continue;
    const previous = line[b - 1] ?? ' ';
    if (/\p{Lu}/u.test(c) && /\p{Ll}/u.test(line[b + 1] ?? ' ') && !/\p{Ll}/u.test(previous)) words++;
  }
  return words >= minSupport && words >= 0.9 * here && words >= 0.5 * before;
}

/**
 * Finds column starts in `lines` (each already padded to `width`). A piece of evidence counts
 * when at least 3 lines (or 2% of the sample, if more) show it.
 */
export function findBoundaries(lines: readonly string[], width: number): Boundaries {
  const n = lines.length;
  const minSupport = Math.max(Math.min(3, n), Math.ceil(0.02 * n));
  const nonBlank = new Array<number>(width).fill(0);
  const edge = new Array<number>(width).fill(0);
  for (const line of lines) {
    for (let p = 0; p < width; p++) {
      if (line[p] !== ' ') {
        nonBlank[p] = (nonBlank[p] ?? 0) + 1;
        if (p > 0 && line[p - 1] === ' ') edge[p] = (edge[p] ?? 0) + 1;
      }
    }
  }

  const starts = new Set<number>([0]);
  // Positions inside a date or number: nothing else may start a column there.
  const inside = new Array<boolean>(width).fill(false);
  const hard = new Array<boolean>(width + 1).fill(false);
  const dates = findDates(lines, width);
  for (const d of dates) {
    starts.add(d.start);
    if (d.start + d.width < width) starts.add(d.start + d.width);
    hard[d.start] = true;
    hard[d.start + d.width] = true;
    for (let p = d.start + 1; p < d.start + d.width; p++) inside[p] = true;
  }

  const rightAligned = new Set<number>();
  for (const [end, first] of findNumbers(lines, width, hard, nonBlank, minSupport)) {
    if (inside[first] || inside[end - 1]) continue;
    // The padding before the digits is shared with the column before. A column that starts at a
    // hard boundary takes all of it; otherwise the number gets half of it, but no more than one
    // character more than its longest value. This is a guess (nothing in the padding tells where
    // one field ends and the next starts): text fields are usually generous, number fields snug.
    let g = first;
    while (g > 0 && nonBlank[g - 1] === 0 && !hard[g]) g--;
    const start = hard[g] || g === 0 ? g : first - Math.min(Math.floor((first - g) / 2), end - first + 1);
    starts.add(start);
    if (end < width) starts.add(end);
    rightAligned.add(start);
    for (let p = start + 1; p < end; p++) inside[p] = true;
    hard[start] = true;
    hard[end] = true;
  }

  for (let b = 1; b < width; b++) {
    if (inside[b] || starts.has(b)) continue;
    const here = nonBlank[b] ?? 0;
    if (here < minSupport) continue;
    // A value starts here after padding on most lines: a left-aligned column starts.
    if ((edge[b] ?? 0) >= 0.3 * here && !innerSpace(lines, b)) {
      starts.add(b);
      continue;
    }
    if (
      classChange(lines, b, minSupport, nonBlank[b - 1] ?? 0) ||
      wordStart(lines, b, minSupport, here, nonBlank[b - 1] ?? 0)
    )
      starts.add(b);
  }

  // Codes of one to three letters (M/F, Y/N, FT/PT) at a column's start, followed by characters
  // that do not follow from them: a column of their own. (In `ACTV`, `LEFT` the rest of the word
  // follows from its first letters; after `Ms`, `Mr` a lower-case letter makes a word.)
  const queue = [...starts].sort((a, b) => a - b);
  for (let s = queue.shift(); s !== undefined; s = queue.shift()) {
    const next = Math.min(width, ...[...starts].filter((p) => p > s));
    if ((nonBlank[s] ?? 0) < 0.5 * n) continue;
    for (let k = 1; k <= 3 && s + k < next; k++) {
      if (inside[s + k] || !codeAt(lines, s, k)) break;
      const after = distinctAt(lines, s + k, 64);
      // A character that never changes cannot tell which side it belongs to: it stays with the code.
      if (after.size < 2) continue;
      const lower = [...after].filter((c) => /\p{Ll}/u.test(c)).length;
      if (lower > 0 && after.size <= 4) break;
      const pairs = pairsAt(lines, s, k) > Math.max(distinctAt(lines, s, 64, k).size, after.size);
      if (pairs || sharedRest(lines, s, k, next)) {
        starts.add(s + k);
        queue.unshift(s + k);
      }
      break;
    }
  }
  const sorted = [...starts].sort((a, b) => a - b);

  // A number right after a one-letter code takes all the padding between them: a code has no padding.
  for (const r of [...rightAligned]) {
    const before = sorted.filter((p) => p < r).pop();
    if (before === undefined || before + 1 >= r || !codeAt(lines, before, 1)) continue;
    let blank = true;
    for (let p = before + 1; p < r && blank; p++) if ((nonBlank[p] ?? 0) > 0) blank = false;
    if (!blank) continue;
    starts.delete(r);
    rightAligned.delete(r);
    starts.add(before + 1);
    rightAligned.add(before + 1);
  }

  return { starts: [...starts].sort((a, b) => a - b), width, dates, rightAligned };
}

/**
 * A single blank inside one number (`0471 268 499`): the blank is there on every line, and the
 * digits on both sides of it are present on exactly the same lines.
 */
function innerSpace(lines: readonly string[], b: number): boolean {
  if (b < 2) return false;
  for (const line of lines) {
    if (line[b - 1] !== ' ') return false;
    const l = line[b - 2] ?? ' ';
    const r = line[b] ?? ' ';
    if ((l === ' ') !== (r === ' ') || (l !== ' ' && !(isDigit(l) && isDigit(r)))) return false;
  }
  return true;
}

/**
 * A digit followed by a letter at `b` on nearly every line (a number, then text); or letters
 * followed by a digit, where the letters before are one of a few codes (`ACTV10000062`: a status,
 * then a payroll number) rather than the varied start of a key (`MAC0001`).
 */
function classChange(lines: readonly string[], b: number, minSupport: number, before: number): boolean {
  let both = 0;
  let digitLetter = 0;
  let letterDigit = 0;
  const runs = new Set<string>();
  for (const line of lines) {
    const l = line[b - 1] ?? ' ';
    const r = line[b] ?? ' ';
    if (l === ' ' || r === ' ') continue;
    both++;
    if (isDigit(l) && isLetter(r)) digitLetter++;
    else if (isLetter(l) && isDigit(r)) {
      letterDigit++;
      let from = b - 1;
      while (from > 0 && isLetter(line[from - 1] ?? ' ')) from--;
      if (runs.size <= 8) runs.add(line.slice(from, b));
    }
  }
  // Both sides on most lines that have the left one: `7B`/`11B` change class at two places.
  if (both < minSupport || both < 0.8 * before) return false;
  if (digitLetter >= 0.9 * both) return true;
  return letterDigit >= 0.9 * both && runs.size <= 8 && both >= 10;
}
