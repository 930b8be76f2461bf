import type { Database, Statement } from 'better-sqlite3';

import { BOOKKEEPING, SCHOOL_COLUMN, type MirrorTable } from '../../schema/index.js';
import { MirrorDigest } from '../../plan/index.js';
import { countRowsSql } from './mirror.js';
import { q } from './sql.js';

/** The key as the validator builds it, in SQL: parts as text joined by U+001F. */
export function keySql(key: readonly string[], alias: string): string {
  return key.map((k) => `CAST(${alias}.${q(k)} AS TEXT)`).join(` || char(31) || `);
}

/** Rows read per statement: a page of the school's rows in key order. */
const PAGE = 20_000;
/** Between a row's fields, and between rows, in a page's text: neither occurs in a hash or a number. */
const FIELD = '\x1d';
const ROW = '\x1e';

/**
 * Reads the digest of `school`'s active rows in `mirror` (see plan/digest.ts): each row's key (as
 * the validator builds it), row hash, line hash and address (rowid); whether inactive rows exist
 * besides is one more statement (MirrorDigest.inactiveNotHeld). SQLite hands over a
 * page of rows as one text (better-sqlite3 costs a call per row stepped, which was most of
 * reading a digest row by row); pages follow the table's primary key, so only the school's rows
 * are visited. A page whose text cannot be split back into its rows (a key holding one of the
 * separators) is read again row by row.
 */
export function readDigest(db: Database, mirror: MirrorTable, school: string): MirrorDigest {
  const digest = new MirrorDigest();
  const B = BOOKKEEPING;
  const t = q(mirror.name);
  const s = q(SCHOOL_COLUMN);
  // A table holding this school's rows alone (the embedded database of one school) is read in
  // rowid order, straight through the table: the primary key's order reaches every row, active
  // or not, by a lookup each, and after a year most rows of a table such as SXAB are inactive.
  const alone =
    db
      .prepare(
        `SELECT (SELECT ${s} FROM ${t} ORDER BY ${s} LIMIT 1) = ? AND (SELECT ${s} FROM ${t} ORDER BY ${s} DESC LIMIT 1) = ?`,
      )
      .pluck()
      .get(school, school) === 1;
  const key = alone ? ['rowid'] : mirror.key.map(q);
  const from = alone ? `${t} AS m NOT INDEXED` : `${t} AS m`;
  const after = `(${key.map((k) => `m.${k}`).join(', ')}) > (${key.map(() => '?').join(', ')})`;
  const order = key.map((k) => `m.${k}`).join(', ');
  const fields = `${keySql(mirror.key, 'm')} AS k, m.${q(B.hash)} AS h, m.${q(B.active)} AS a, m.${q(B.lineHash)} AS l, m.rowid AS r`;
  const page = (where: string): Statement =>
    db.prepare(
      `SELECT group_concat(ifnull(k, '') || '${FIELD}' || ifnull(h, '') || '${FIELD}' || a || '${FIELD}' || ifnull(l, '') || '${FIELD}' || r, '${ROW}') AS text, count(*) AS n
       FROM (SELECT ${fields} FROM ${from} WHERE m.${s} = ? ${where} ORDER BY ${order} LIMIT ${PAGE})`,
    );
  const rows = (where: string): Statement =>
    db.prepare(`SELECT ${fields} FROM ${from} WHERE m.${s} = ? ${where} ORDER BY ${order} LIMIT ${PAGE}`).raw(true);
  // The key (or rowid) of a page's last row, where the next page starts.
  const lastKey = (where: string): Statement =>
    db
      .prepare(`SELECT ${order} FROM ${from} WHERE m.${s} = ? ${where} ORDER BY ${order} LIMIT 1 OFFSET ${PAGE - 1}`)
      .raw(true);
  // Prepared when first needed: most tables fit a page, and few pages ever need reading row by row.
  const statements = (where: string): { page: Statement; rows: Statement; last: Statement } => {
    let p: Statement | undefined, r: Statement | undefined, l: Statement | undefined;
    return {
      get page() {
        return (p ??= page(where));
      },
      get rows() {
        return (r ??= rows(where));
      },
      get last() {
        return (l ??= lastKey(where));
      },
    };
  };
  const active = `AND m.${q(B.active)} = 1`;
  const first = statements(active);
  const next = statements(`${active} AND ${after}`);

  let start: unknown[] | null = null;
  for (;;) {
    const args = start === null ? [school] : [school, ...start];
    const st = start === null ? first : next;
    const { text, n } = st.page.get(...args) as { text: string | null; n: number };
    if (n === 0 || text === null) break;
    if (!addPage(digest, text, n)) {
      for (const [k, h, a, l, r] of st.rows.iterate(...args) as IterableIterator<
        [string | null, string | null, number, string | null, number]
      >)
        add(digest, k ?? '', h ?? '', a, l ?? '', r);
    }
    if (n < PAGE) break;
    start = st.last.get(...args) as unknown[];
  }
  // Inactive rows are the school's rows the digest did not take: counted from the primary key's
  // index alone, where looking for one visited every active row of a table that has none.
  const all = db.prepare(countRowsSql(mirror)).pluck().get(school) as number;
  digest.inactiveNotHeld = all > digest.size;
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
