import { StringDecoder } from 'node:string_decoder';

import type { PoolClient } from 'pg';
import { to as copyTo } from 'pg-copy-streams';

import { MirrorDigest } from '../../plan/index.js';
import type { MirrorTable } from '../../schema/index.js';
import { digestSql, hasInactiveSql } from './sql.js';

/**
 * A row's ctid `(page,slot)` as the one number the digest holds: page × 2^16 + slot (a slot is
 * below 2^16 and counts from 1; a page below 2^32), so it is never 0 and stays exact.
 */
export function addressOf(page: number, slot: number): number {
  return page * 65536 + slot;
}

/** The ctid text of an address `addressOf` made, as COPY writes it into a tid column. */
export function ctidOf(address: number): string {
  const slot = address % 65536;
  return `(${(address - slot) / 65536},${slot})`;
}

/** COPY's text format escapes backslash, tab, line breaks and a few control characters. */
function unescapeCopy(field: string): string {
  if (field.indexOf('\\') === -1) return field;
  return field.replace(/\\(.)/g, (_, c: string) => COPY_ESCAPES[c] ?? c);
}

const COPY_ESCAPES: Readonly<Record<string, string>> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', v: '\v' };

/** The decimal number in text[from, to); NaN when there is none. */
function readNumber(text: string, from: number, to: number): number {
  if (to <= from || to - from > 10) return NaN;
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return n;
}

/**
 * Reads the digest of `school`'s active rows in `mirror` (see plan/digest.ts) in one COPY: key
 * (as the validator builds it), row hash, active, line hash and address (ctid, as `addressOf`
 * numbers it); whether inactive rows exist besides is one more query (MirrorDigest.inactiveNotHeld).
 */
export async function readDigest(client: PoolClient, mirror: MirrorTable, school: string): Promise<MirrorDigest> {
  const digest = new MirrorDigest();
  const decoder = new StringDecoder('utf8');
  let rest = '';
  const take = (text: string): void => {
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl === -1) break;
      const t1 = text.indexOf('\t', start);
      const t2 = text.indexOf('\t', t1 + 1);
      const t3 = text.indexOf('\t', t2 + 1);
      const t4 = text.indexOf('\t', t3 + 1);
      const line = text.slice(t3 + 1, t4);
      // The address is (page,slot).
      const comma = text.indexOf(',', t4);
      const page = readNumber(text, t4 + 2, comma);
      const slot = readNumber(text, comma + 1, nl - 1);
      if (Number.isNaN(page) || Number.isNaN(slot) || slot === 0)
        throw new Error(`reading ${mirror.name}: a digest row has no address`);
      digest.add(
        unescapeCopy(text.slice(start, t1)),
        text.slice(t1 + 1, t2),
        text.charCodeAt(t2 + 1) === 116,
        line === '\\N' ? null : line,
        addressOf(page, slot),
      );
      start = nl + 1;
    }
    rest = text.slice(start);
  };
  for await (const chunk of client.query(copyTo(digestSql(mirror, school))) as AsyncIterable<Buffer>)
    take(rest + decoder.write(chunk));
  take(rest + decoder.end());
  if (rest.length > 0) throw new Error(`reading ${mirror.name}: the digest ended inside a row`);
  const inactive = await client.query<{ inactive: boolean }>(hasInactiveSql(mirror), [school]);
  digest.inactiveNotHeld = inactive.rows[0]?.inactive === true;
  return digest;
}
