import { describe, expect, it } from 'vitest';

import { parseLineHash } from '../src/extract/index.js';
import { MirrorDigest, Verdict } from '../src/plan/index.js';
import { addressOf, ctidOf } from '../src/store/postgres/digest.js';

const hash = (i: number): string => i.toString(16).padStart(16, '0');
/** A line hash unlike any row hash above, with both halves in use (signed halves included). */
const lineOf = (i: number): string => (0x80000000 + i).toString(16) + (0x7fff0000 - i).toString(16).padStart(8, '0');

describe('MirrorDigest', () => {
  it('tells new, changed, inactive and unchanged rows apart, and lists the active rows not shown, through growth', () => {
    const digest = new MirrorDigest();
    const n = 5000;
    for (let i = 0; i < n; i++) digest.add(`K${i}`, hash(i), i % 10 !== 5);
    digest.add('OLD', 'an older hash form', true);
    expect(digest.size).toBe(n + 1);
    // Shown: the even keys, active with the same hash (no work), and K5, K15, … inactive (work, though the hash is the same).
    for (let i = 0; i < n; i += 2) expect(digest.classify(`K${i}`, hash(i), null), `K${i}`).toBe(Verdict.unchanged);
    for (let i = 5; i < 100; i += 10) expect(digest.classify(`K${i}`, hash(i), null), `K${i}`).toBe(Verdict.work);
    expect(digest.classify('K1', hash(2), null)).toBe(Verdict.work);
    expect(digest.classify('NEW', hash(1), null)).toBe(Verdict.work);
    expect(digest.classify('OLD', hash(1), null)).toBe(Verdict.work);
    // Not shown: the odd keys other than K1; of those, the inactive ones (K5, K15, …) are not listed.
    const unseen = [...digest.unseenActive()];
    const expected = Array.from({ length: n }, (_, i) => i)
      .filter((i) => i % 2 === 1 && i !== 1 && i % 10 !== 5)
      .map((i) => `K${i}`);
    expect(unseen).toEqual(expected);
  });

  it('finds active rows by the line hash they were read from, and says when a stored line hash is out of date', () => {
    const digest = new MirrorDigest();
    const n = 3000;
    // Every third row has no line hash (loaded before line hashes), K7 is inactive, K8 has an older row hash form.
    for (let i = 0; i < n; i++)
      digest.add(`K${i}`, i === 8 ? 'older' : hash(i), i !== 7, i % 3 === 0 ? null : lineOf(i));
    const find = (line: string): number => {
      const h = parseLineHash(line) as { hi: number; lo: number };
      return digest.findLine(h.hi, h.lo);
    };
    for (let i = 1; i < n; i++) {
      const entry = find(lineOf(i));
      if (i % 3 === 0 || i === 7 || i === 8) expect(entry, `K${i}`).toBe(-1);
      else expect(digest.keyAt(entry), `K${i}`).toBe(`K${i}`);
    }
    expect(find(lineOf(n + 5))).toBe(-1);
    // Shown by the reader: not listed as unseen, though never classified, and its line is kept.
    const k1 = find(lineOf(1));
    expect(digest.firstLine(k1)).toBe(0);
    digest.showKey(k1, 42);
    expect(digest.firstLine(k1)).toBe(42);
    expect(digest.findKey('K1')).toBe(k1);
    expect(digest.findKey('K-none')).toBe(-1);
    expect([...digest.unseenActive()]).not.toContain('K1');
    expect([...digest.unseenActive()]).toContain('K2');
    // Same values: unchanged when read from the stored line, a stale line otherwise (or when none is stored).
    expect(digest.classify('K2', hash(2), lineOf(2))).toBe(Verdict.unchanged);
    expect(digest.classify('K4', hash(4), lineOf(5))).toBe(Verdict.staleLine);
    expect(digest.classify('K3', hash(3), lineOf(3))).toBe(Verdict.staleLine);
    expect(digest.classify('K6', hash(6), null)).toBe(Verdict.unchanged);
    expect(digest.classify('K10', hash(11), lineOf(10))).toBe(Verdict.work);
    // Entries added after a lookup are found too.
    digest.add('LATE', hash(1), true, lineOf(n + 9));
    expect(digest.keyAt(find(lineOf(n + 9)))).toBe('LATE');
  });

  it("keeps each row's address and tells it, and whether the row is active, for the row last classified", () => {
    const digest = new MirrorDigest();
    // A PostgreSQL ctid with a page past 2^31 and the largest slot survives as one exact number.
    const far = addressOf(3_000_000_000, 65535);
    digest.add('A', hash(1), true, null, addressOf(0, 1));
    digest.add('B', hash(2), false, null, far);
    digest.add('C', hash(3), true, null, 7);
    digest.add('D', hash(4), true, null, 2 ** 40);
    expect(digest.classify('A', hash(9), null)).toBe(Verdict.work);
    expect([digest.lastAddress(), digest.lastActive()]).toEqual([1, true]);
    expect(digest.classify('B', hash(2), null)).toBe(Verdict.work);
    expect([ctidOf(digest.lastAddress() as number), digest.lastActive()]).toEqual(['(3000000000,65535)', false]);
    expect(digest.classify('NEW', hash(2), null)).toBe(Verdict.work);
    expect([digest.lastAddress(), digest.lastActive()]).toEqual([null, false]);
    expect(digest.classify('C', hash(3), null)).toBe(Verdict.unchanged);
    expect([...digest.unseenActiveAddresses()]).toEqual([2 ** 40]);
    // A digest read without addresses says so instead of inventing one.
    const bare = new MirrorDigest();
    bare.add('X', hash(1), true);
    expect(bare.classify('X', hash(2), null)).toBe(Verdict.work);
    expect(bare.lastAddress()).toBeNull();
    expect(() => [...bare.unseenActiveAddresses()]).not.toThrow();
    bare.add('Y', hash(1), true);
    expect(() => [...bare.unseenActiveAddresses()]).toThrow(/no address for entry 1/);
  });
});
