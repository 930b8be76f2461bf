import { setTimeout as sleep } from 'node:timers/promises';

import { describe, expect, it } from 'vitest';

import { ReadAhead } from '../src/util/read-ahead.js';

/** A source of 0..n-1 that records how far it was pulled and whether it was ended. */
function counting(n: number, failAt = -1) {
  const state = { pulled: 0, ended: false };
  async function* source(): AsyncGenerator<number> {
    try {
      for (let i = 0; i < n; i++) {
        if (i === failAt) throw new Error(`source failed at ${i}`);
        state.pulled = i + 1;
        await sleep(0);
        yield i;
      }
    } finally {
      state.ended = true;
    }
  }
  return { state, source: source() };
}

describe('ReadAhead', () => {
  it('reads ahead while the consumer waits, up to its limit, and hands everything over in order', async () => {
    const { state, source } = counting(100);
    const ahead = new ReadAhead(source, () => 1, 10);
    // The consumer is busy elsewhere: the source is read, but only up to the limit.
    await sleep(50);
    expect(state.pulled).toBe(10);
    expect(ahead.waiting).toBe(10);
    const got: number[] = [];
    for (let next = await ahead.next(); !next.done; next = await ahead.next()) got.push(next.value);
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(state.ended).toBe(true);
    await ahead.close();
  });

  it('weighs items: a heavy one fills the limit alone', async () => {
    const { state, source } = counting(10);
    const ahead = new ReadAhead(source, (i) => (i === 2 ? 100 : 1), 50);
    await sleep(50);
    expect(state.pulled).toBe(3);
    expect((await ahead.next()).value).toBe(0);
    await sleep(20);
    // Taking one light item leaves the heavy one over the limit: nothing more is read.
    expect(state.pulled).toBe(3);
    await ahead.close();
  });

  it("gives the items read before a source's error, then the error", async () => {
    const { source } = counting(10, 4);
    const ahead = new ReadAhead(source, () => 1, 100);
    const got: number[] = [];
    await expect(
      (async () => {
        for (let next = await ahead.next(); !next.done; next = await ahead.next()) got.push(next.value);
      })(),
    ).rejects.toThrow('source failed at 4');
    expect(got).toEqual([0, 1, 2, 3]);
    await ahead.close();
  });

  it('ends the source when closed early, and is done after', async () => {
    const { state, source } = counting(1000);
    const ahead = new ReadAhead(source, () => 1, 5);
    expect((await ahead.next()).value).toBe(0);
    await ahead.close();
    expect(state.ended).toBe(true);
    expect(state.pulled).toBeLessThan(10);
    expect((await ahead.next()).done).toBe(true);
  });
});
