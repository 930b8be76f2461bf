import { readHex32 } from '../extract/index.js';
import { type KnownLines, KeyTable } from '../validate/index.js';

/** What a file row needs, by `MirrorDigest.classify`. */
export const Verdict = {
  /** Same values, same line hash: nothing to write. */
  unchanged: 0,
  /** New key, changed values, or an inactive row: staged and merged. */
  work: 1,
  /** Same values read from other text: only the stored line hash is brought up to date. */
  staleLine: 2,
} as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

/**
 * What a re-run needs to know of a school's mirror rows: each row's key, row hash, line hash,
 * whether it is active and its address (SQLite's rowid, PostgreSQL's ctid as one number: see
 * `addressOf`), read once at the start of a file's merge (under the school's run lock,
 * inside the run's transaction). The reader asks it which lines it already holds, by line hash,
 * and skips them, and keeps here the line that first showed each of these keys, for duplicates
 * (see validate/read.ts); the merge asks it, per row read, whether the row is new, changed or
 * inactive, instead of one primary-key lookup per row in the database; and the active rows a
 * full file never showed are found here too. About 60 bytes a row: a million-row table costs
 * some 60 MB for the length of its merge.
 *
 * An address lets the store reach a row it must change without looking its key up again. It is
 * good for the transaction that read the digest: the rows are the school's, written only by its
 * run (under the run lock), and the table cannot be rewritten while the transaction holds its
 * read lock.
 */
export class MirrorDigest implements KnownLines {
  private readonly keys = new KeyTable();
  /** Entry → the row hash as two 32-bit halves (it is 16 hex digits). */
  private hi = new Int32Array(1024);
  private lo = new Int32Array(1024);
  /** Entry → the line hash's halves. */
  private lineHi = new Int32Array(1024);
  private lineLo = new Int32Array(1024);
  /** Entry → the line of the file that first showed the key; 0 while none has. */
  private firstLines = new Int32Array(1024);
  /** Entry → the row's address, a positive integer; 0 when the store gave none. */
  private addresses = new Float64Array(1024);
  /** The entry `classify` last found, or -1 when its key was new. */
  private found = -1;
  /**
   * Entry → bits: ACTIVE; VALID_HASH (the row hash is 16 hex digits: an older form never
   * matches); LINE (a line hash is stored); SEEN (the file showed the key).
   */
  private flags = new Uint8Array(1024);
  /** Line hash → entry + 1, open addressing over active rows with a line hash; built on first use. */
  private lineSlots: Int32Array | null = null;

  /**
   * Whether the store holds inactive rows of the school that this digest does not (the stores
   * read active rows only, so that a night's cost does not grow with the leavers and absences of
   * every night before it). A key the digest lacks may then be one of them, returning: the plan
   * has it looked up before inserting it.
   */
  inactiveNotHeld = false;

  /** Rows held. */
  get size(): number {
    return this.keys.size;
  }

  /** `address` is where the store finds the row again: a positive integer below 2^53 (0 for none). */
  add(key: string, hash: string, active: boolean, lineHash: string | null = null, address = 0): void {
    const entry = this.keys.add(key);
    if (entry >= this.hi.length) this.grow();
    this.addresses[entry] = address;
    let flags = active ? ACTIVE : 0;
    if (readHalves(hash)) {
      this.hi[entry] = halves[0] as number;
      this.lo[entry] = halves[1] as number;
      flags |= VALID_HASH;
    }
    if (lineHash !== null && readHalves(lineHash)) {
      this.lineHi[entry] = halves[0] as number;
      this.lineLo[entry] = halves[1] as number;
      flags |= LINE;
    }
    this.flags[entry] = flags;
    this.lineSlots = null;
  }

  /**
   * `add` from a text holding the row's fields (a page of a store's digest), without a string
   * per field: the key is text[keyAt, keyEnd), the row hash text[hashAt, hashEnd) and the line
   * hash text[lineAt, lineEnd) (empty for none). The key is taken as new without a lookup, so
   * this is for keys known to be distinct, a mirror table's primary keys: they are indexed only
   * when one is first looked up, which an unchanged re-run (every row found by its line) never does.
   */
  addFrom(
    text: string,
    keyAt: number,
    keyEnd: number,
    hashAt: number,
    hashEnd: number,
    active: boolean,
    lineAt: number,
    lineEnd: number,
    address: number,
  ): void {
    const entry = this.keys.append(text, keyAt, keyEnd);
    if (entry >= this.hi.length) this.grow();
    this.addresses[entry] = address;
    let flags = active ? ACTIVE : 0;
    if (hashEnd - hashAt === 16 && readHalvesAt(text, hashAt)) {
      this.hi[entry] = halves[0] as number;
      this.lo[entry] = halves[1] as number;
      flags |= VALID_HASH;
    }
    if (lineEnd - lineAt === 16 && readHalvesAt(text, lineAt)) {
      this.lineHi[entry] = halves[0] as number;
      this.lineLo[entry] = halves[1] as number;
      flags |= LINE;
    }
    this.flags[entry] = flags;
    this.lineSlots = null;
  }

  /**
   * What a file row needs: work when its key is new, or its row is inactive or has another row
   * hash; otherwise unchanged, or staleLine when the stored line hash is not `lineHash`.
   * Remembers that the file showed the key, and which row it is (see `lastAddress`, `lastActive`).
   */
  classify(key: string, hash: string, lineHash: string | null): Verdict {
    const entry = this.keys.find(key);
    this.found = entry;
    if (entry === -1) return Verdict.work;
    const flags = (this.flags[entry] as number) | SEEN;
    this.flags[entry] = flags;
    if ((flags & (ACTIVE | VALID_HASH)) !== (ACTIVE | VALID_HASH)) return Verdict.work;
    if (!readHalves(hash) || halves[0] !== this.hi[entry] || halves[1] !== this.lo[entry]) return Verdict.work;
    if (lineHash === null || !readHalves(lineHash)) return Verdict.unchanged;
    return (flags & LINE) !== 0 && halves[0] === this.lineHi[entry] && halves[1] === this.lineLo[entry]
      ? Verdict.unchanged
      : Verdict.staleLine;
  }

  /** The address of the row `classify` last found; null for a new key or a row without one. */
  lastAddress(): number | null {
    const entry = this.found;
    return entry === -1 || this.addresses[entry] === 0 ? null : (this.addresses[entry] as number);
  }

  /** Whether the row `classify` last found is active (false for a new key). */
  lastActive(): boolean {
    return this.found !== -1 && ((this.flags[this.found] as number) & ACTIVE) !== 0;
  }

  findLine(hi: number, lo: number): number {
    const slots = this.lineSlots ?? this.indexLines();
    const mask = slots.length - 1;
    for (let i = spread(hi, lo) & mask; ; i = (i + 1) & mask) {
      const slot = slots[i] as number;
      if (slot === 0) return -1;
      if (this.lineLo[slot - 1] === lo && this.lineHi[slot - 1] === hi) return slot - 1;
    }
  }

  keyAt(entry: number): string {
    return this.keys.keyAt(entry);
  }

  findKey(key: string): number {
    return this.keys.find(key);
  }

  firstLine(entry: number): number {
    return this.firstLines[entry] as number;
  }

  showKey(entry: number, line: number): void {
    this.firstLines[entry] = line;
    this.flags[entry] = (this.flags[entry] as number) | SEEN;
  }

  /**
   * Counts a rejected row's key as shown, so a full file does not deactivate the row it held;
   * unlike `showKey` it records no line (the row was not read, and no duplicate can point at it).
   */
  hold(key: string): void {
    const entry = this.keys.find(key);
    if (entry !== -1) this.flags[entry] = (this.flags[entry] as number) | SEEN;
  }

  /** How many active rows the file never showed. */
  countUnseenActive(): number {
    let n = 0;
    for (let entry = 0; entry < this.keys.size; entry++)
      if (((this.flags[entry] as number) & (SEEN | ACTIVE)) === ACTIVE) n++;
    return n;
  }

  /** Keys of the active rows the file never showed: what a full file deactivates. */
  *unseenActive(): Generator<string> {
    for (let entry = 0; entry < this.keys.size; entry++) {
      if (((this.flags[entry] as number) & (SEEN | ACTIVE)) === ACTIVE) yield this.keys.keyAt(entry);
    }
  }

  /** Addresses of the active rows the file never showed, in the order they were added; only for a digest whose rows all have one. */
  *unseenActiveAddresses(): Generator<number> {
    for (let entry = 0; entry < this.keys.size; entry++) {
      if (((this.flags[entry] as number) & (SEEN | ACTIVE)) !== ACTIVE) continue;
      if (this.addresses[entry] === 0) throw new Error(`the digest holds no address for entry ${entry}`);
      yield this.addresses[entry] as number;
    }
  }

  /** Indexes the line hashes of active rows whose row hash can match. */
  private indexLines(): Int32Array {
    let n = 0;
    for (let entry = 0; entry < this.keys.size; entry++)
      if (((this.flags[entry] as number) & KNOWABLE) === KNOWABLE) n++;
    let size = 1024;
    while (size < n * 2) size *= 2;
    const slots = new Int32Array(size);
    const mask = size - 1;
    for (let entry = 0; entry < this.keys.size; entry++) {
      if (((this.flags[entry] as number) & KNOWABLE) !== KNOWABLE) continue;
      const hi = this.lineHi[entry] as number;
      const lo = this.lineLo[entry] as number;
      let i = spread(hi, lo) & mask;
      // One line is read as one key, so two rows share a line hash only by a 64-bit collision:
      // the first is kept.
      for (; slots[i] !== 0; i = (i + 1) & mask) {
        const other = (slots[i] as number) - 1;
        if (this.lineHi[other] === hi && this.lineLo[other] === lo) break;
      }
      if (slots[i] === 0) slots[i] = entry + 1;
    }
    this.lineSlots = slots;
    return slots;
  }

  private grow(): void {
    const size = this.hi.length * 2;
    this.hi = grown(this.hi, size);
    this.lo = grown(this.lo, size);
    this.lineHi = grown(this.lineHi, size);
    this.lineLo = grown(this.lineLo, size);
    this.firstLines = grown(this.firstLines, size);
    this.addresses = grown(this.addresses, size);
    this.flags = grown(this.flags, size);
  }
}

const ACTIVE = 1;
const VALID_HASH = 2;
const LINE = 4;
const SEEN = 8;
const KNOWABLE = ACTIVE | VALID_HASH | LINE;

/** `readHalves` leaves a hash's two signed 32-bit halves here. */
const halves = new Int32Array(2);

/** Reads 16 lower-case hex digits into `halves`; false for anything else. */
function readHalves(hex: string): boolean {
  return hex.length === 16 && readHalvesAt(hex, 0);
}

/** Reads the 16 lower-case hex digits at s[at] into `halves`; false when they are not. */
function readHalvesAt(s: string, at: number): boolean {
  const hi = readHex32(s, at);
  const lo = readHex32(s, at + 8);
  if (Number.isNaN(hi) || Number.isNaN(lo)) return false;
  halves[0] = hi;
  halves[1] = lo;
  return true;
}

function spread(hi: number, lo: number): number {
  return Math.imul(lo ^ (hi >>> 15), 0x9e3779b1) >>> 0;
}

/** A copy of a typed array with room for `size` entries. */
function grown<T extends Int32Array<ArrayBuffer> | Float64Array<ArrayBuffer> | Uint8Array<ArrayBuffer>>(
  a: T,
  size: number,
): T {
  const b = new (a.constructor as new (length: number) => T)(size);
  b.set(a);
  return b;
}
