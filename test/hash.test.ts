import { describe, expect, it } from 'vitest';

import { createRowHasher } from '../src/load/index.js';

/**
 * The row hash is stored in every mirror row, so changing what it gives for a row would make the
 * next night rewrite (and log) every row of every school. These values were computed by the
 * first release's hasher and pin it.
 */
describe('row hash', () => {
  const names = ['stkey', 'surname', 'birthdate', 'amount', 'notes'];

  it('gives the values every stored hash was made with', () => {
    const hasher = createRowHasher(names);
    expect(hasher.hash(['WAL0001', 'WALKER', '2009-09-12 00:00:00', 12, null])).toBe('bf3c6bb91c370fc8');
    // Non-Latin-1 text, an astral character and a value longer than the hasher's scratch space.
    expect(hasher.hash(['Zoë’s', 'Ó Súilleabháin – 日本語 😀', null, null, 'x'.repeat(70_000)])).toBe(
      'fed0ceb5e584a931',
    );
  });

  it('does not depend on column order, and tells a moved or changed value apart', () => {
    const hasher = createRowHasher(names);
    const reordered = createRowHasher(['notes', 'amount', 'birthdate', 'surname', 'stkey']);
    const row = ['WAL0001', 'WALKER', '2009-09-12 00:00:00', 12, null];
    expect(reordered.hash([...row].reverse())).toBe(hasher.hash(row));
    // The same text under another column, or split differently between columns, is another row.
    expect(hasher.hash(['WAL0001', null, 'WALKER', 12, null])).not.toBe(hasher.hash(row));
    expect(hasher.hash(['WAL000', '1WALKER', '2009-09-12 00:00:00', 12, null])).not.toBe(hasher.hash(row));
    expect(hasher.hash(['WAL0001', 'WALKER', '2009-09-12 00:00:00', 13, null])).not.toBe(hasher.hash(row));
  });

  it('leaves a row hashing the same when an all-null column is added', () => {
    const before = createRowHasher(names).hash(['WAL0001', 'WALKER', '2009-09-12 00:00:00', 12, null]);
    const after = createRowHasher([...names, 'new_column']).hash([
      'WAL0001',
      'WALKER',
      '2009-09-12 00:00:00',
      12,
      null,
      null,
    ]);
    expect(after).toBe(before);
  });
});
