/** Pieces the row hash (load/hash.ts) and the line hash (extract/line-hash.ts) share. */

/** murmur3's final avalanche: every input bit moves about half the output bits. Unsigned 32-bit. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A 32-bit number as 8 lower-case hex digits (its bit pattern: signed and unsigned alike). */
export function hex32(n: number): string {
  return (
    (HEX[(n >>> 24) & 255] as string) +
    (HEX[(n >>> 16) & 255] as string) +
    (HEX[(n >>> 8) & 255] as string) +
    (HEX[n & 255] as string)
  );
}
