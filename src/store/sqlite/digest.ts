import type { Database, Statement } from 'better-sqlite3';

import { BOOKKEEPING, SCHOOL_COLUMN, type MirrorTable } from '../../schema/index.js';
import { MirrorDigest } from '../../plan/index.js';
import { hasInactiveSql } from './mirror.js';
import { q } from './sql.js';

/** The key as the validator builds it, in SQL: parts as text joined by U+001F. */
export function keySql(key: readonly string[], alias: string): string {
  return key.map((k) => `CAST(${alias}.${q(k)} AS TEXT)`).join(` || char(31) || `);
}

/** Rows read per statement: a page of the school's active rows in rowid order. */
const PAGE = 20_000;
/** Between a row's fields, and between rows, in a page's text: neither occurs in a hash or a number. */
const FIELD = '\x1d';
const ROW = '\x1e';

/**
 * Reads the digest of `school`'s active rows in `mirror` (see plan/digest.ts): each row's key (as
 * the validator builds it), row hash, line hash and address (rowid), and whether inactive rows
 * exist besides (MirrorDigest.inactiveNotHeld). The active rows are read through the index of
 * rows by school and activity (mirror.ts, activeIndexSql), in rowid order, so neither another
 * school's rows nor the school's inactive ones are visited. SQLite hands over a page of rows as
 * one text (better-sqlite3 costs a call per row stepped, which was most of reading a digest row
 * by row). A page whose text cannot be split back into its rows (a key holding one of the
 * separators) is read again row by row.
 */
export function readDigest(db: Database, mirror: MirrorTable, school: string): MirrorDigest {
  const digest = new MirrorDigest();
  const B = BOOKKEEPING;
  const t = q(mirror.name);
  const fields = `${keySql(mirror.key, 'm')} AS k, m.${q(B.hash)} AS h, m.${q(B.active)} AS a, m.${q(B.lineHash)} AS l, m.rowid AS r`;
  const active = (after: boolean): string =>
    `FROM ${t} AS m WHERE m.${q(SCHOOL_COLUMN)} = ? AND m.${q(B.active)} = 1${after ? ' AND m.rowid > ?' : ''} ORDER BY m.rowid LIMIT ${PAGE}`;
  // The page's text, its rows, and its last rowid (where the next page starts).
  const page = (after: boolean): Statement =>
    db.prepare(
      `SELECT group_concat(ifnull(k, '') || '${FIELD}' || ifnull(h, '') || '${FIELD}' || a || '${FIELD}' || ifnull(l, '') || '${FIELD}' || r, '${ROW}') AS text,
         count(*) AS n, max(r) AS last
       FROM (SELECT ${fields} ${active(after)})`,
    );
  const rows = (after: boolean): Statement => db.prepare(`SELECT ${fields} ${active(after)}`).raw(true);
  const first = page(false);
  let next: Statement | undefined;

  let last: number | null = null;
  for (;;) {
    const args = last === null ? [school] : [school, last];
    const st = last === null ? first : (next ??= page(true));
    const got = st.get(...args) as { text: string | null; n: number; last: number | null };
    if (got.n === 0 || got.text === null) break;
    if (!addPage(digest, got.text, got.n)) {
      for (const [k, h, a, l, r] of rows(last !== null).iterate(...args) as IterableIterator<
        [string | null, string | null, number, string | null, number]
      >)
        add(digest, k ?? '', h ?? '', a, l ?? '', r);
    }
    if (got.n < PAGE) break;
    last = got.last;
  }
  digest.inactiveNotHeld = db.prepare(hasInactiveSql(mirror)).pluck().get(school) === 1;
  return digest;
}

function add(digest: MirrorDigest, key: string, hash: string, active: number, line: string, rowid: number): void {
  if (!(rowid > 0)) throw new Error('reading a digest: a row has no positive rowid');
  digest.add(key, hash, active === 1, line === '' ? null : line, rowid);
}

/**
 * Adds a page's rows from its text; false, adding nothing, when the text does not hold exactly
 * `n` rows of five fields. Read in place, with indexOf and offsets: a string per field (or an
 * array per row) was most of reading a digest.
 */
function addPage(digest: MirrorDigest, text: string, n: number): boolean {
  // Where each row's five fields start, found (and the page's shape checked) before anything is added.
  const at = new Int32Array(n * 5 + 1);
  let p = 0;
  for (let i = 0; i < n; i++) {
    const end = i === n - 1 ? text.length : text.indexOf(ROW, p);
    if (end === -1) return false;
    for (let f = 0; f < 4; f++) {
      at[i * 5 + f] = p;
      const q = text.indexOf(FIELD, p);
      if (q === -1 || q > end) return false;
      p = q + 1;
    }
    at[i * 5 + 4] = p;
    const extra = text.indexOf(FIELD, p);
    if (extra !== -1 && extra < end) return false;
    // The rowid: digits only.
    if (!(readInteger(text, p, end) > 0)) return false;
    p = end + 1;
  }
  if (p !== text.length + 1) return false;
  at[n * 5] = p;
  for (let i = 0; i < n; i++) {
    const b = i * 5;
    // Each field ends one before the next one starts (at its separator).
    const start = (f: number): number => at[b + f] as number;
    digest.addFrom(
      text,
      start(0),
      start(1) - 1,
      start(1),
      start(2) - 1,
      text.charCodeAt(start(2)) === 49 && start(3) - start(2) === 2,
      start(3),
      start(4) - 1,
      readInteger(text, start(4), start(5) - 1),
    );
  }
  return true;
}

/** The decimal digits s[start, end) as a number; NaN when there are none or another character is among them. */
function readInteger(s: string, start: number, end: number): number {
  if (end <= start || end - start > 15) return Number.NaN;
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return Number.NaN;
    n = n * 10 + d;
  }
  return n;
}
