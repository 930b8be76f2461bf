import { describe, expect, it } from 'vitest';

import { MirrorDigest } from '../src/store/postgres/digest.js';

describe('MirrorDigest', () => {
  it('tells new, changed, inactive and unchanged rows apart, and lists the active rows not shown, through growth', () => {
    const digest = new MirrorDigest();
    const n = 5000;
    const hash = (i: number): string => i.toString(16).padStart(16, '0');
    for (let i = 0; i < n; i++) digest.add(`K${i}`, hash(i), i % 10 !== 5);
    digest.add('OLD', 'an older hash form', true);
    expect(digest.size).toBe(n + 1);
    // Shown: the even keys, active with the same hash (no work), and K5, K15, … inactive (work, though the hash is the same).
    for (let i = 0; i < n; i += 2) expect(digest.needsWork(`K${i}`, hash(i)), `K${i}`).toBe(false);
    for (let i = 5; i < 100; i += 10) expect(digest.needsWork(`K${i}`, hash(i)), `K${i}`).toBe(true);
    expect(digest.needsWork('K1', hash(2))).toBe(true);
    expect(digest.needsWork('NEW', hash(1))).toBe(true);
    expect(digest.needsWork('OLD', hash(1))).toBe(true);
    // Not shown: the odd keys other than K1; of those, the inactive ones (K5, K15, …) are not listed.
    const unseen = [...digest.unseenActive()];
    const expected = Array.from({ length: n }, (_, i) => i).filter((i) => i % 2 === 1 && i !== 1 && i % 10 !== 5).map((i) => `K${i}`);
    expect(unseen).toEqual(expected);
  });
});
