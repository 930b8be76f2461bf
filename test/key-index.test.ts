import { describe, expect, it } from 'vitest';

import { KeyLineIndex } from '../src/validate/key-index.js';

describe('KeyLineIndex', () => {
  it('remembers the first line of each key, exactly, through many rehashes', () => {
    const index = new KeyLineIndex();
    const n = 200_000;
    for (let i = 0; i < n; i++) expect(index.addOrGetLine(`K${i}`, i + 2)).toBeUndefined();
    expect(index.size).toBe(n);
    for (let i = 0; i < n; i += 997) expect(index.addOrGetLine(`K${i}`, 0)).toBe(i + 2);
    expect(index.size).toBe(n);
    // Prefixes, the empty string, long and non-ASCII keys are all distinct keys.
    expect(index.addOrGetLine('K1', 0)).toBe(3);
    expect(index.addOrGetLine('K', 7)).toBeUndefined();
    expect(index.addOrGetLine('', 8)).toBeUndefined();
    expect(index.addOrGetLine('', 9)).toBe(8);
    const long = 'X'.repeat(5000);
    expect(index.addOrGetLine(long, 10)).toBeUndefined();
    expect(index.addOrGetLine(`${long}Y`, 11)).toBeUndefined();
    expect(index.addOrGetLine(long, 12)).toBe(10);
    expect(index.addOrGetLine('Zoë\u001f7', 13)).toBeUndefined();
    expect(index.addOrGetLine('Zoe\u001f7', 14)).toBeUndefined();
    expect(index.addOrGetLine('Zoë\u001f7', 15)).toBe(13);
  });
});
