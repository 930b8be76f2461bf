import { isYyyymmdd } from './infer-boundaries.js';
import { DECIMAL, INT, isEduhubDate, isIso } from './infer-types.js';
import type { ColumnLayout, TableLayout } from './types.js';

/**
 * `layouts check`: a fixed-width file against its layout, before any run. Lines of the wrong
 * length, columns that are always blank, boundaries one to three characters off (a value that
 * starts after a blank on most lines, or runs from one column into the next), date and number
 * columns whose values mostly fail to parse, and a key with duplicates. Each finding names the
 * column, the first lines it was seen on and the fix. Values never appear in a finding.
 */

export type FindingLevel = 'error' | 'warning';

export interface Finding {
  readonly level: FindingLevel;
  /** What was found, for tools: `line-length`, `blank-column`, `boundary`, `parse`, `duplicate-key`. */
  readonly kind: 'line-length' | 'blank-column' | 'boundary' | 'parse' | 'duplicate-key';
  /** The column it concerns, or null for the whole line. */
  readonly column: string | null;
  /** Lines it was seen on (1-based), the first few. */
  readonly lines: readonly number[];
  /** Lines it was seen on, all of them. */
  readonly count: number;
  readonly message: string;
  readonly fix: string;
}

export interface CheckReport {
  /** Lines read (blank lines included). */
  readonly lines: number;
  /** Characters a record needs: the end of the furthest column. */
  readonly width: number;
  /** Line length → lines of that length, longest count first. */
  readonly lengths: readonly (readonly [number, number])[];
  readonly findings: readonly Finding[];
  /** True when no finding is an error. */
  readonly fits: boolean;
}

/** How far either side of a boundary a better one is looked for. */
const SHIFT = 3;

/** Line numbers kept per finding. */
const FIRST_LINES = 5;

const NUMERIC = new Set(['int', 'smallint', 'decimal', 'float']);

interface Tally {
  count: number;
  lines: number[];
}

function tally(): Tally {
  return { count: 0, lines: [] };
}

function note(t: Tally, line: number): void {
  t.count++;
  if (t.lines.length < FIRST_LINES) t.lines.push(line);
}

function parses(c: ColumnLayout, v: string): boolean {
  if (c.type === 'date' || c.type === 'datetime') {
    if (c.format === 'yyyymmdd') return isYyyymmdd(v);
    if (c.format === 'iso') return isIso(v);
    if (c.format === 'eduhub') return isEduhubDate(v);
    return isYyyymmdd(v) || isIso(v) || isEduhubDate(v);
  }
  if (c.type === 'int' || c.type === 'smallint') return INT.test(v);
  return INT.test(v) || DECIMAL.test(v);
}

const isLetter = (c: string | undefined): boolean => c !== undefined && c.toLowerCase() !== c.toUpperCase();
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isLower = (c: string | undefined): boolean => isLetter(c) && c === c?.toLowerCase();

/**
 * A value visibly starts at `p` (not blank there): after a blank; at a change between digits and
 * letters (`07mac0001`); or as a capitalised word after a character that is not a small letter
 * (`ACTVOlivia`).
 */
function startsHere(line: string, p: number): boolean {
  const before = line[p - 1];
  const c = line[p];
  if (before === ' ') return true;
  if ((isDigit(before) && isLetter(c)) || (isLetter(before) && isDigit(c))) return true;
  return isLetter(c) && !isLower(c) && isLower(line[p + 1]) && !isLower(before);
}

/**
 * Checks the lines of a file (streamed) against a fixed-width layout. Every line is read, so
 * duplicate keys and line lengths cover the whole file.
 */
export async function checkFixedFile(lines: AsyncIterable<string>, layout: TableLayout): Promise<CheckReport> {
  const columns = layout.columns
    .filter((c): c is ColumnLayout & { start: number; width: number } => c.start !== null && c.width !== null)
    .slice()
    .sort((a, b) => a.start - b.start);
  const width = columns.reduce((w, c) => Math.max(w, c.start + c.width), 0);
  const lengths = new Map<number, number>();
  const short = tally();
  const long = tally();
  const filled = columns.map(() => 0);
  const unparsed = columns.map(() => tally());
  // Per position: lines on which a value starts there (see startsHere), and that hold a character there.
  const edge = new Array<number>(width + 1).fill(0);
  const used = new Array<number>(width + 1).fill(0);
  // Per column: lines on which its value starts 1–3 characters either side of its start (index x - start + SHIFT).
  const shifted = columns.map(() => Array.from({ length: 2 * SHIFT + 1 }, () => tally()));
  const runInto = columns.map(() => tally());
  const keyColumns = (layout.primaryKey ?? []).map((k) => columns.findIndex((c) => c.name === k));
  const keys = new Map<string, number>();
  const duplicates = tally();
  let n = 0;

  for await (const raw of lines) {
    n++;
    if (raw.trim() === '') continue;
    lengths.set(raw.length, (lengths.get(raw.length) ?? 0) + 1);
    if (raw.length < width) note(short, n);
    else if (raw.length > width && raw.slice(width).trim() !== '') note(long, n);
    const line = raw.padEnd(width);
    for (let p = 0; p < width; p++) {
      if (line[p] === ' ') continue;
      used[p] = (used[p] ?? 0) + 1;
      if (p > 0 && startsHere(line, p)) edge[p] = (edge[p] ?? 0) + 1;
    }
    for (let i = 1; i < columns.length; i++) {
      const b = columns[i]?.start ?? 0;
      for (let x = Math.max(1, b - SHIFT); x <= b + SHIFT && x < width; x++) {
        // Before the start, the value must go on into the column (`12I` then a blank date is no value of it).
        if (x === b || line[x] === ' ' || !startsHere(line, x) || (x < b && line[b] === ' ')) continue;
        note(shifted[i]?.[x - b + SHIFT] as Tally, n);
      }
    }
    columns.forEach((c, i) => {
      const value = line.slice(c.start, c.start + c.width).trim();
      if (value === '') return;
      filled[i] = (filled[i] ?? 0) + 1;
      if ((NUMERIC.has(c.type) || c.type === 'date' || c.type === 'datetime') && !parses(c, value))
        note(unparsed[i] as Tally, n);
      if (c.type === 'flag' && value.length > 1) note(unparsed[i] as Tally, n);
      const next = columns[i + 1];
      if (next && next.start === c.start + c.width && isLetter(line[next.start - 1]) && isLetter(line[next.start]))
        note(runInto[i] as Tally, n);
    });
    if (keyColumns.length > 0 && keyColumns.every((k) => k >= 0)) {
      const key = keyColumns
        .map((k) => line.slice(columns[k]?.start, (columns[k]?.start ?? 0) + (columns[k]?.width ?? 0)).trim())
        .join('\u0000');
      if (keys.has(key)) note(duplicates, n);
      else keys.set(key, n);
    }
  }

  const data = [...lengths.values()].reduce((a, b) => a + b, 0);
  const findings: Finding[] = [];
  const sortedLengths = [...lengths.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  if (short.count > 0) {
    const common = sortedLengths[0]?.[0] ?? 0;
    findings.push({
      level: 'error',
      kind: 'line-length',
      column: null,
      lines: short.lines,
      count: short.count,
      message: `${short.count} line${short.count === 1 ? ' is' : 's are'} shorter than the layout's ${width} characters (most lines are ${common})`,
      fix:
        common < width
          ? `the layout's columns end at ${width} but the file's lines end at ${common}: check the widths (the last column may be ${width - common} too wide, or a column too wide before it)`
          : 'those lines are cut short in the file: re-run the export',
    });
  }
  if (long.count > 0) {
    const common = sortedLengths[0]?.[0] ?? 0;
    findings.push({
      level: 'error',
      kind: 'line-length',
      column: null,
      lines: long.lines,
      count: long.count,
      message: `${long.count} line${long.count === 1 ? ' has' : 's have'} characters after the layout's last column (which ends at ${width}; most lines are ${common})`,
      fix: `the file's lines are ${common} characters: add the missing column${common - width > 1 ? 's' : ''} after ${columns.at(-1)?.name ?? 'the last column'} or widen it`,
    });
  }

  columns.forEach((c, i) => {
    const f = filled[i] ?? 0;
    if (f === 0 && data > 0)
      findings.push({
        level: 'warning',
        kind: 'blank-column',
        column: c.name,
        lines: [],
        count: data,
        message: `${c.name} (characters ${c.start + 1}–${c.start + c.width}) is blank on every line`,
        fix: 'nothing to do if the export leaves it empty; otherwise check the positions around it',
      });
    const bad = unparsed[i] as Tally;
    if (bad.count > 0) {
      const what =
        c.type === 'date' || c.type === 'datetime'
          ? `a date (${c.format})`
          : c.type === 'flag'
            ? 'one letter (a flag)'
            : `a number (${c.type})`;
      findings.push({
        level: bad.count * 2 > f ? 'error' : 'warning',
        kind: 'parse',
        column: c.name,
        lines: bad.lines,
        count: bad.count,
        message: `${bad.count} of ${f} values are not ${what}`,
        fix:
          bad.count * 2 > f
            ? `most values fail: ${c.name}'s start or width is probably off (or its type is wrong); \`cases-etl layouts infer\` proposes positions`
            : 'those rows will be rejected by a run; fix them in CASES21 or make the column text',
      });
    }
  });

  findings.push(...boundaryFindings(columns, { edge, used, shifted, filled, runInto }, data));

  if (duplicates.count > 0) {
    const key = (layout.primaryKey ?? []).join(', ');
    findings.push({
      level: 'error',
      kind: 'duplicate-key',
      column: key,
      lines: duplicates.lines,
      count: duplicates.count,
      message: `${duplicates.count} line${duplicates.count === 1 ? ' repeats a key' : 's repeat keys'} of ${key} already seen`,
      fix: `a run keeps only one row per key: check ${key}'s positions, or give the layout a primary_key that identifies a row`,
    });
  }

  return {
    lines: n,
    width,
    lengths: sortedLengths,
    findings,
    fits: findings.every((f) => f.level !== 'error'),
  };
}

/**
 * Boundaries off by one to three characters. Where a column starts, values should start (see
 * startsHere): when most values start a little later (after a blank that belongs to the column
 * before) or a little earlier (their first letters sit at the end of the column before, which
 * then looks cut), the boundary is moved to where they start. Numbers are skipped on the side
 * where they are: their own padding and digits look like that.
 */
function boundaryFindings(
  columns: readonly (ColumnLayout & { start: number; width: number })[],
  seen: {
    /** Per position: lines on which a value starts there, and that hold a character there. */
    readonly edge: readonly number[];
    readonly used: readonly number[];
    /** Per column: lines on which its value starts 1–3 characters either side of its start. */
    readonly shifted: readonly (readonly Tally[])[];
    /** Per column: lines with a value, and lines on which a letter runs into the next column. */
    readonly filled: readonly number[];
    readonly runInto: readonly Tally[];
  },
  data: number,
): Finding[] {
  const { edge, used, shifted, filled, runInto } = seen;
  const out: Finding[] = [];
  const minSupport = Math.max(3, Math.ceil(0.02 * data));
  for (let i = 1; i < columns.length; i++) {
    const left = columns[i - 1];
    const right = columns[i];
    if (!left || !right || right.start !== left.start + left.width) continue;
    const b = right.start;
    const here = edge[b] ?? 0;
    let best: { x: number; count: number; lines: readonly number[] } | null = null;
    for (let x = b - SHIFT; x <= b + SHIFT; x++) {
      if (x === b || x <= left.start || x >= right.start + right.width) continue;
      if (x < b && NUMERIC.has(left.type)) continue;
      if (x > b && NUMERIC.has(right.type)) continue;
      const e = shifted[i]?.[x - b + SHIFT]?.count ?? 0;
      // Most values of the column start there, and most characters there start a value: a column of
      // codes such as `9I`, `12I` has a change of class at two places, each on some lines only.
      if (e < minSupport || e < 0.8 * (filled[i] ?? 0) || e < 0.8 * (used[x] ?? 0) || e < 2 * here + minSupport)
        continue;
      if (best === null || e > best.count) best = { x, count: e, lines: shifted[i]?.[x - b + SHIFT]?.lines ?? [] };
    }
    if (best === null) continue;
    const d = best.x - b;
    const n = Math.abs(d);
    const chars = n === 1 ? 'one character' : `${n} characters`;
    const ran = runInto[i - 1];
    const message =
      d > 0
        ? `${right.name}'s values start ${chars} after its start on ${best.count} lines: ${left.name} looks ${chars} too narrow`
        : `${right.name}'s values start ${chars} before its start on ${best.count} lines${ran && ran.count > 0 ? ` (on ${ran.count} lines a letter at ${left.name}'s last position runs into ${right.name})` : ''}: ${left.name} looks ${chars} too wide`;
    out.push({
      level: 'error',
      kind: 'boundary',
      column: left.name,
      lines: d < 0 && ran && ran.lines.length > 0 ? ran.lines : best.lines,
      count: best.count,
      message,
      fix: `${d > 0 ? 'widen' : 'narrow'} ${left.name} to ${left.width + d} and move ${right.name} to ${best.x} (width ${right.width - d})`,
    });
  }
  return out;
}
