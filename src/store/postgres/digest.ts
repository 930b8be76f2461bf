import { StringDecoder } from 'node:string_decoder';

import type { PoolClient } from 'pg';
import { to as copyTo } from 'pg-copy-streams';

import type { MirrorTable } from '../../load/mirror.js';
import { KeyTable } from '../../validate/key-index.js';
import { digestSql } from './sql.js';

/**
 * What a re-run needs to know of a school's mirror rows: each row's key, hash and whether it is
 * active, read in one COPY at the start of the merge (under the school's run lock, inside the
 * run's transaction). Each of the file's rows is then checked here, in memory, instead of one
 * primary-key lookup per row in PostgreSQL; the rows a full file never showed are found here too.
 * About 30 bytes a row: a million-row table costs some 30 MB for the length of its merge.
 */
export class MirrorDigest {
  private readonly keys = new KeyTable();
  /** Entry → the stored hash as two 32-bit halves (it is 16 hex digits). */
  private hi = new Int32Array(1024);
  private lo = new Int32Array(1024);
  /** Entry → 0 inactive, 1 active, 2 active with a hash not of 16 hex digits (an older form: it never matches). */
  private state = new Uint8Array(1024);
  /** Entry → 1 once the file showed the key. */
  private seen = new Uint8Array(1024);

  /** Rows held. */
  get size(): number {
    return this.keys.size;
  }

  add(key: string, hash: string, active: boolean): void {
    const entry = this.keys.add(key);
    if (entry >= this.hi.length) this.grow();
    if (HEX16.test(hash)) {
      this.hi[entry] = Number.parseInt(hash.slice(0, 8), 16) | 0;
      this.lo[entry] = Number.parseInt(hash.slice(8), 16) | 0;
      this.state[entry] = active ? 1 : 0;
    } else this.state[entry] = active ? 2 : 0;
  }

  /**
   * Whether a file row must be staged: its key is new, or its row is inactive or has another
   * hash. Remembers that the file showed the key.
   */
  needsWork(key: string, hash: string): boolean {
    const entry = this.keys.find(key);
    if (entry === -1) return true;
    this.seen[entry] = 1;
    if (this.state[entry] !== 1) return true;
    return (Number.parseInt(hash.slice(0, 8), 16) | 0) !== this.hi[entry] || (Number.parseInt(hash.slice(8), 16) | 0) !== this.lo[entry];
  }

  /** Keys of the active rows the file never showed: what a full file deactivates. */
  *unseenActive(): Generator<string> {
    for (let entry = 0; entry < this.keys.size; entry++) {
      if (this.seen[entry] === 0 && this.state[entry] !== 0) yield this.keys.keyAt(entry);
    }
  }

  private grow(): void {
    const size = this.hi.length * 2;
    this.hi = grown(this.hi, size);
    this.lo = grown(this.lo, size);
    this.state = grown(this.state, size);
    this.seen = grown(this.seen, size);
  }
}

/** A copy of a typed array with room for `size` entries. */
function grown<T extends Int32Array<ArrayBuffer> | Uint8Array<ArrayBuffer>>(a: T, size: number): T {
  const b = new (a.constructor as new (length: number) => T)(size);
  b.set(a);
  return b;
}

const HEX16 = /^[0-9a-f]{16}$/;

/** COPY's text format escapes backslash, tab, line breaks and a few control characters. */
function unescapeCopy(field: string): string {
  if (field.indexOf('\\') === -1) return field;
  return field.replace(/\\(.)/g, (_, c: string) => COPY_ESCAPES[c] ?? c);
}

const COPY_ESCAPES: Readonly<Record<string, string>> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', v: '\v' };

/** Reads the digest of `school`'s rows in `mirror`: key (as the validator builds it), hash, active. */
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
      digest.add(unescapeCopy(text.slice(start, t1)), text.slice(t1 + 1, t2), text.charCodeAt(t2 + 1) === 116);
      start = nl + 1;
    }
    rest = text.slice(start);
  };
  for await (const chunk of client.query(copyTo(digestSql(mirror, school))) as AsyncIterable<Buffer>) take(rest + decoder.write(chunk));
  take(rest + decoder.end());
  if (rest.length > 0) throw new Error(`reading ${mirror.name}: the digest ended inside a row`);
  return digest;
}
