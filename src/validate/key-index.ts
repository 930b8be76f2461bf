/**
 * A set of string keys, each given an entry number (0, 1, 2… in the order added), in about 16
 * bytes a key plus its UTF-8 bytes. A Map<string, number> costs ~60 bytes a key, which for a
 * 1,000,000-row file is most of the memory a streaming load should need. Keys are stored as UTF-8
 * in one growing arena and found through an open-addressing table of entry numbers; comparisons
 * are exact, so a hash collision can never make two different keys one. Callers keep what they
 * know about each key in their own typed arrays, indexed by entry.
 */
export class KeyTable {
  /** Slot → entry number + 1 (0 is empty). Length is a power of two, at most half full. */
  private slots = new Int32Array(1024);
  /** Entry → end offset of its bytes in the arena (the start is the previous entry's end). */
  private ends = new Int32Array(512);
  private arena = new Uint8Array(4096);
  private used = 0;
  private count = 0;
  private readonly scratch = new Uint8Array(1024);

  /** Keys held. */
  get size(): number {
    return this.count;
  }

  /** False while entries appended by `append` are not yet in `slots`; the next lookup puts them there. */
  private indexed = true;

  /** The entry of `key`, or -1. */
  find(key: string): number {
    return this.locate(key, false);
  }

  /** The entry of `key`, added if new; `size` grows when it was. */
  add(key: string): number {
    return this.locate(key, true);
  }

  /**
   * Adds s[start, end) as a new entry without looking it up: for keys known to be distinct (a
   * table's primary keys), read in bulk where most are never looked up (an unchanged re-run
   * finds its rows by line hash). They are indexed at the first `find` or `add`; should two be
   * equal after all, lookups find the first.
   */
  append(s: string, start: number, end: number): number {
    const entry = this.count;
    const n = end - start;
    let bytes: Uint8Array | null = null;
    if (n <= this.scratch.length) {
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(start + i);
        if (c > 0x7f) break;
        this.scratch[i] = c;
      }
      if (i === n) bytes = this.scratch.subarray(0, n);
    }
    this.store(bytes ?? Buffer.from(s.slice(start, end), 'utf8'));
    this.indexed = false;
    return entry;
  }

  /** The key of an entry. */
  keyAt(entry: number): string {
    const start = entry === 0 ? 0 : (this.ends[entry - 1] as number);
    return Buffer.from(this.arena.buffer, this.arena.byteOffset + start, (this.ends[entry] as number) - start).toString(
      'utf8',
    );
  }

  private locate(key: string, add: boolean): number {
    if (!this.indexed) this.rehash(this.slots.length);
    const bytes = this.encode(key);
    const len = bytes.length;
    const hash = fnv1a(bytes, 0, len);
    const mask = this.slots.length - 1;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const slot = this.slots[i] as number;
      if (slot === 0) return add ? this.insert(i, bytes) : -1;
      const entry = slot - 1;
      const start = entry === 0 ? 0 : (this.ends[entry - 1] as number);
      const end = this.ends[entry] as number;
      if (end - start === len && equalBytes(this.arena, start, bytes, len)) return entry;
    }
  }

  private encode(key: string): Uint8Array {
    const n = key.length;
    if (n <= this.scratch.length) {
      let ascii = true;
      for (let i = 0; i < n; i++) {
        const c = key.charCodeAt(i);
        if (c > 0x7f) {
          ascii = false;
          break;
        }
        this.scratch[i] = c;
      }
      if (ascii) return this.scratch.subarray(0, n);
    }
    return Buffer.from(key, 'utf8');
  }

  private insert(slot: number, bytes: Uint8Array): number {
    const entry = this.store(bytes);
    this.slots[slot] = entry + 1;
    if (this.count * 2 > this.slots.length) this.rehash(this.slots.length * 2);
    return entry;
  }

  /** Puts `bytes` in the arena as the next entry, not yet in `slots`. */
  private store(bytes: Uint8Array): number {
    const entry = this.count;
    if (entry === this.ends.length) this.ends = growInt32(this.ends, this.ends.length * 2);
    if (this.used + bytes.length > this.arena.length) {
      const bigger = new Uint8Array(Math.max(this.arena.length * 2, this.used + bytes.length));
      bigger.set(this.arena.subarray(0, this.used));
      this.arena = bigger;
    }
    this.arena.set(bytes, this.used);
    this.used += bytes.length;
    this.ends[entry] = this.used;
    this.count++;
    return entry;
  }

  /** Builds `slots` anew from every entry, at least `size` of them and at most half full. */
  private rehash(size: number): void {
    while (this.count * 2 > size) size *= 2;
    this.indexed = true;
    const slots = new Int32Array(size);
    const mask = slots.length - 1;
    let start = 0;
    for (let entry = 0; entry < this.count; entry++) {
      const end = this.ends[entry] as number;
      let i = fnv1a(this.arena, start, end) & mask;
      while (slots[i] !== 0) i = (i + 1) & mask;
      slots[i] = entry + 1;
      start = end;
    }
    this.slots = slots;
  }
}

/** Where each key of a file was first seen. */
export interface KeyLines {
  /**
   * Records `key` as first seen on `line`, or, if it was seen before, returns that earlier line
   * and records nothing.
   */
  addOrGetLine(key: string, line: number): number | undefined;
}

/** The keys seen in one file, with the line each was first seen on. */
export class KeyLineIndex implements KeyLines {
  private readonly keys = new KeyTable();
  private lines = new Int32Array(512);

  /** Keys held. */
  get size(): number {
    return this.keys.size;
  }

  /**
   * Records `key` as first seen on `line`, or, if it was seen before, returns that earlier line
   * and records nothing.
   */
  addOrGetLine(key: string, line: number): number | undefined {
    const before = this.keys.size;
    const entry = this.keys.add(key);
    if (this.keys.size === before) return this.lines[entry];
    if (entry >= this.lines.length) this.lines = growInt32(this.lines, this.lines.length * 2);
    this.lines[entry] = line;
    return undefined;
  }

  /** Each key with the line it was first seen on, in the order they were met. */
  *entries(): Generator<[string, number]> {
    for (let entry = 0; entry < this.keys.size; entry++) yield [this.keys.keyAt(entry), this.lines[entry] as number];
  }
}

/** A copy of `a` with room for `size` entries. */
export function growInt32(a: Int32Array, size: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(size);
  b.set(a);
  return b;
}

function fnv1a(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ (bytes[i] as number), 0x01000193);
  // Final avalanche (from murmur3) so that keys differing only in their last byte spread out.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

function equalBytes(arena: Uint8Array, start: number, bytes: Uint8Array, len: number): boolean {
  for (let i = 0; i < len; i++) if (arena[start + i] !== bytes[i]) return false;
  return true;
}
