import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { fixedColumns, LineHasher, lineFingerprint, parseLineHash, readHex32 } from '../src/extract/index.js';
import { loadBuiltinLayouts } from '../src/layouts/index.js';

/**
 * A line hash must depend on the line's text and the reading it gets, and on nothing else: not
 * on which chunk of the file holds the line, where in it, or what was hashed before.
 */
describe('line hash', () => {
  const text = fc.string({ unit: fc.constantFrom('a', 'Z', '0', ',', ' ', 'é', '’', '日', '😀', '"'), maxLength: 60 });

  it('is the same for a line wherever it sits and whatever was hashed before', () => {
    const hasher = new LineHasher('seed');
    fc.assert(
      fc.property(text, text, text, text, (before, line, after, other) => {
        const alone = hasher.hex(line, 0, line.length);
        hasher.hex(other + before, 0, other.length);
        const embedded = hasher.hex(before + line + after, before.length, before.length + line.length);
        expect(embedded).toBe(alone);
        expect(new LineHasher('seed').hex(line, 0, line.length)).toBe(alone);
        expect(alone).toMatch(/^[0-9a-f]{16}$/);
        expect(parseLineHash(alone)).toEqual({ hi: hasher.hi, lo: hasher.lo });
      }),
      { numRuns: 400, seed: 20261127 },
    );
  });

  it('tells apart lines, seeds and lengths, and reads a text longer than its scratch space', () => {
    const a = new LineHasher('seed');
    const b = new LineHasher('seed2');
    expect(a.hex('WAL0001,WALKER', 0, 14)).not.toBe(b.hex('WAL0001,WALKER', 0, 14));
    expect(a.hex('WAL0001,WALKER', 0, 14)).not.toBe(a.hex('WAL0001,WALKER', 0, 13));
    expect(a.hex('WAL0001,WALKER', 0, 14)).not.toBe(a.hex('WAL0001,WALKES', 0, 14));
    const long = 'x'.repeat(200_000) + 'tail';
    expect(a.hex(long, 200_000, 200_004)).toBe(a.hex('tail', 0, 4));
  });

  it('is seeded with everything that decides how a line is read', () => {
    const st = loadBuiltinLayouts().get('ST');
    if (!st) throw new Error('no ST layout');
    const columns = fixedColumns(st);
    const base = lineFingerprint(columns, 'csv', 'windows-1252', ['STKEY']);
    expect(lineFingerprint(columns, 'csv', 'windows-1252', ['STKEY'])).toBe(base);
    const others = [
      lineFingerprint(columns, 'fixed', 'windows-1252', ['STKEY']),
      lineFingerprint(columns, 'csv', 'utf-8', ['STKEY']),
      lineFingerprint(columns, 'csv', 'windows-1252', ['STKEY', 'SURNAME']),
      lineFingerprint({ ...columns, present: columns.present - 1 }, 'csv', 'windows-1252', ['STKEY']),
      lineFingerprint({ ...columns, columns: [...columns.columns].reverse() }, 'csv', 'windows-1252', ['STKEY']),
      lineFingerprint(
        {
          ...columns,
          columns: columns.columns.map((c, i) => (i === 3 ? { ...c, maxLength: (c.maxLength ?? 0) + 1 } : c)),
        },
        'csv',
        'windows-1252',
        ['STKEY'],
      ),
    ];
    expect(new Set([base, ...others]).size).toBe(others.length + 1);
  });

  it('reads stored hashes back exactly and refuses anything else', () => {
    expect(readHex32('00000000', 0)).toBe(0);
    expect(readHex32('ffffffff', 0)).toBe(-1);
    expect(readHex32('x7fffffff', 1)).toBe(0x7fffffff);
    for (const bad of ['0000000', '0000000g', '0000000F', '00000 00', '0000000\u0660'])
      expect(readHex32(bad, 0)).toBeNaN();
    expect(parseLineHash('0123456789abcdef')).toEqual({ hi: 0x01234567, lo: 0x89abcdef | 0 });
    for (const bad of [null, '', '0123456789abcde', '0123456789abcdef0', '0123456789ABCDEF'])
      expect(parseLineHash(bad)).toBeNull();
  });
});
