import { StringDecoder } from 'node:string_decoder';

import type { PoolClient } from 'pg';
import { to as copyTo } from 'pg-copy-streams';

import { MirrorDigest } from '../../load/digest.js';
import type { MirrorTable } from '../../load/mirror.js';
import { digestSql } from './sql.js';

/** COPY's text format escapes backslash, tab, line breaks and a few control characters. */
function unescapeCopy(field: string): string {
  if (field.indexOf('\\') === -1) return field;
  return field.replace(/\\(.)/g, (_, c: string) => COPY_ESCAPES[c] ?? c);
}

const COPY_ESCAPES: Readonly<Record<string, string>> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', v: '\v' };

/**
 * Reads the digest of `school`'s rows in `mirror` (see load/digest.ts) in one COPY: key (as the
 * validator builds it), row hash, active and line hash.
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
      const line = text.slice(t3 + 1, nl);
      digest.add(unescapeCopy(text.slice(start, t1)), text.slice(t1 + 1, t2), text.charCodeAt(t2 + 1) === 116, line === '\\N' ? null : line);
      start = nl + 1;
    }
    rest = text.slice(start);
  };
  for await (const chunk of client.query(copyTo(digestSql(mirror, school))) as AsyncIterable<Buffer>) take(rest + decoder.write(chunk));
  take(rest + decoder.end());
  if (rest.length > 0) throw new Error(`reading ${mirror.name}: the digest ended inside a row`);
  return digest;
}
