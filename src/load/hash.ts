import { fmix32, hex32 } from '../util/index.js';
import type { Value } from '../validate/index.js';

/**
 * The row hash that tells a changed row from an unchanged one without comparing every column
 * against the database. It covers each non-null value together with its column's name, so it
 * does not depend on the file's column order, and a column added as all-null (a new CASES
 * release) leaves every hash as it was. 64 bits from two independent 32-bit lanes: a changed
 * row keeps its old hash with probability 2^-64. Not cryptographic; it does not need to be, and
 * SHA-1 over every row cost 2.5 s per million rows.
 */

function mixString(h: number, s: string, seed: number): number {
  let x = h ^ seed;
  for (let i = 0; i < s.length; i++) x = Math.imul(x ^ s.charCodeAt(i), 0x01000193);
  return Math.imul(x ^ s.length, 0x5bd1e995);
}

/** Per-file hasher: `names[i]` is the mirror column name of the value at index i. */
export interface RowHasher {
  hash(values: readonly Value[]): string;
}

export function createRowHasher(names: readonly string[]): RowHasher {
  // Values are folded in column-name order, so the same row hashes the same whatever the file's order.
  const order = Int32Array.from(
    names
      .map((n, i) => [n, i] as const)
      .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
      .map(([, i]) => i),
  );
  const seedsA = Int32Array.from(names.map((n) => mixString(0x9747b28c, n, 0)));
  const seedsB = Int32Array.from(names.map((n) => mixString(0x165667b1, n, 0x27d4eb2d)));
  const n = order.length;
  // A row's non-null values, in order, are joined and written out as UTF-16 code units once, and
  // the lanes then read a typed array: reading each value with charCodeAt costs several times
  // more, because the values are strings of every representation V8 has (slices of one- and
  // two-byte chunks, concatenations, flat strings). The result is the same, unit for unit.
  let scratch = Buffer.alloc(1 << 16);
  let units = new Uint16Array(scratch.buffer, scratch.byteOffset, scratch.length >> 1);
  const columns = new Int32Array(n);
  const lengths = new Int32Array(n);
  return {
    hash(values) {
      let joined = '';
      let m = 0;
      for (let k = 0; k < n; k++) {
        const i = order[k] as number;
        const v = values[i];
        if (v === null || v === undefined) continue;
        const text = typeof v === 'string' ? v : String(v);
        columns[m] = i;
        lengths[m++] = text.length;
        joined += text;
      }
      if (joined.length * 2 > scratch.length) {
        scratch = Buffer.alloc(joined.length * 4);
        units = new Uint16Array(scratch.buffer, scratch.byteOffset, scratch.length >> 1);
      }
      scratch.write(joined, 0, 'utf16le');
      let a = 0x811c9dc5 | 0;
      let b = 0x2b992ddf | 0;
      let p = 0;
      for (let j = 0; j < m; j++) {
        const i = columns[j] as number;
        const len = lengths[j] as number;
        a ^= seedsA[i] as number;
        b ^= seedsB[i] as number;
        for (const end = p + len; p < end; p++) {
          const ch = units[p] as number;
          a = Math.imul(a ^ ch, 0x01000193);
          b = Math.imul(b ^ ch, 0x5bd1e995);
        }
        a = Math.imul(a ^ len, 0x5bd1e995);
        b = Math.imul(b ^ len, 0x01000193);
      }
      return hex32(fmix32(a)) + hex32(fmix32(b ^ a));
    },
  };
}
