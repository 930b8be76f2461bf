import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { fmix32, hex32 } from '../util/index.js';
import type { FileColumns } from './records.js';

/**
 * The line hash: 64 bits over a record's text exactly as read (decoded, without its line end),
 * seeded with everything else that decides what that text becomes: the file's columns as mapped
 * from its header (names, order, types, lengths, required), its key, format and encoding, and the
 * version of cases-etl. Equal line hashes mean equal text read the same way, so a line whose hash
 * is stored on an active mirror row would become exactly that row again: a re-run can count it
 * as unchanged without splitting, converting or validating it. Anything that could read the same
 * text differently changes the seed, so after an upgrade or a layout change every line is read
 * in full once more. Two lanes of 32 bits; not cryptographic, like the row hash.
 */

/** Bump when reading or converting a line changes in a way the package version would not show. */
const SCHEME = 1;

const PACKAGE_VERSION = ((): string => {
  try {
    return (
      (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string })
        .version ?? 'unknown'
    );
  } catch {
    return 'unknown';
  }
})();

/** What a line's text is read with, as one string to seed its hash with. */
export function lineFingerprint(
  columns: FileColumns,
  format: string,
  encoding: string,
  key: readonly string[],
): string {
  return JSON.stringify({
    scheme: SCHEME,
    version: PACKAGE_VERSION,
    format,
    encoding,
    key,
    present: columns.present,
    columns: columns.columns,
  });
}

/**
 * A text written out as UTF-16 code units, once, for loops that read every character: reading a
 * typed array costs a fraction of a charCodeAt, because texts come in every representation V8
 * has (slices of one- and two-byte chunks, concatenations, flat strings). Holds one text at a
 * time; `of` gives the units of a text, writing it out only if it is not the one held.
 */
export class TextUnits {
  private text: string | null = null;
  private scratch = Buffer.alloc(1 << 17);
  private units = new Uint16Array(this.scratch.buffer, this.scratch.byteOffset, this.scratch.length >> 1);

  /** `s` as code units: a view that stays valid until another text is asked for. */
  of(s: string): Uint16Array {
    if (s === this.text) return this.units;
    if (s.length * 2 > this.scratch.length) {
      this.scratch = Buffer.alloc(s.length * 4);
      this.units = new Uint16Array(this.scratch.buffer, this.scratch.byteOffset, this.scratch.length >> 1);
    }
    this.scratch.write(s, 0, 'utf16le');
    this.text = s;
    return this.units;
  }
}

/**
 * Hashes stretches of one text after another, reading them from the text's code units (written
 * out once per chunk of the file; `units` may be shared with a reader of the same text).
 */
export class LineHasher {
  /** The last hash, as two signed 32-bit halves. */
  hi = 0;
  lo = 0;
  private readonly seedA: number;
  private readonly seedB: number;

  constructor(
    fingerprint: string,
    private readonly units = new TextUnits(),
  ) {
    // The fingerprint of a wide table is tens of kilobytes of JSON, once per file: a native hash
    // of it took a tenth of an unchanged re-run's time off (a loop over its characters runs
    // before the JIT has compiled it).
    const seed = createHash('sha256').update(fingerprint).digest();
    this.seedA = seed.readInt32LE(0);
    this.seedB = seed.readInt32LE(4);
  }

  /** Hashes s[start, end) into `hi` and `lo`. */
  hash(s: string, start: number, end: number): void {
    const units = this.units.of(s);
    let a = this.seedA;
    let b = this.seedB;
    for (let p = start; p < end; p++) {
      const ch = units[p] as number;
      a = Math.imul(a ^ ch, 0x01000193);
      b = Math.imul(b ^ ch, 0x5bd1e995);
    }
    const len = end - start;
    this.hi = fmix32(Math.imul(a ^ len, 0x5bd1e995)) | 0;
    this.lo = fmix32(Math.imul(b ^ len, 0x01000193) ^ this.hi) | 0;
  }

  /** The hash of s[start, end) as 16 hex digits, the form stored on mirror rows. */
  hex(s: string, start: number, end: number): string {
    this.hash(s, start, end);
    return this.lastHex();
  }

  /** The last hash as 16 hex digits. */
  lastHex(): string {
    return hex32(this.hi) + hex32(this.lo);
  }
}

/** Lower-case hex digit → value; -1 for anything else. */
const HEX_VALUE = Int8Array.from({ length: 128 }, (_, c) =>
  c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1,
);

/**
 * The 8 lower-case hex digits at s[at] as a signed 32-bit number, or NaN when they are not 8
 * such digits. Hashes are read by the million on a re-run, where parseInt over a slice, and a
 * regular expression to check it first, cost a second per million rows.
 */
export function readHex32(s: string, at: number): number {
  if (at + 8 > s.length) return Number.NaN;
  let n = 0;
  for (let i = at; i < at + 8; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? (HEX_VALUE[c] as number) : -1;
    if (v < 0) return Number.NaN;
    n = (n << 4) | v;
  }
  return n;
}

/** 16 hex digits as the two signed halves `LineHasher` gives, or null for anything else. */
export function parseLineHash(hex: string | null): { hi: number; lo: number } | null {
  if (hex === null || hex.length !== 16) return null;
  const hi = readHex32(hex, 0);
  const lo = readHex32(hex, 8);
  return Number.isNaN(hi) || Number.isNaN(lo) ? null : { hi, lo };
}

/**
 * Told of each line a reader could skip, by its hash: true when the line is known (the reader
 * then counts it as an unchanged row and does not read it further), false to read it as usual.
 */
export type KnownLineTest = (hi: number, lo: number, line: number) => boolean;
