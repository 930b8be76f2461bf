import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import type { LoadMode } from '../src/layouts/index.js';
import {
  MergePlan,
  MirrorDigest,
  readAsOf,
  repeatedLoad,
  type FileIdentity,
  type PreviousLoad,
  type RowAction,
  type StagedRow,
} from '../src/plan/index.js';

/**
 * The merge plan against a naive reference written from the rules alone (a Map per table, one
 * decision per row, nothing clever): random stored rows, random nights (full or delta, rows new,
 * changed, reactivated, re-read from other text, skipped as known lines, rejected with and without
 * a key), and both must agree on every row's action and on what the end of the file deactivates.
 */

interface Stored {
  readonly key: string;
  readonly hash: string;
  readonly line: string | null;
  readonly active: boolean;
  readonly address: number;
}

interface Night {
  readonly mode: LoadMode;
  readonly stored: readonly Stored[];
  /** The file's rows, in batches. */
  readonly batches: ReadonlyArray<readonly StagedRow[]>;
  /** Keys whose line the reader skipped as known before the merge saw the file's rows. */
  readonly known: readonly string[];
  readonly held: readonly string[];
  readonly keyless: number;
}

const hex = (n: number): string => n.toString(16).padStart(16, '0');
/** Row hashes from a small pool, so that equal values are common; 'old' is a hash of an older form. */
const hashArb = fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 1, max: 4 }).map(hex) }, fc.constant('old-form'));
const lineArb = fc.option(fc.integer({ min: 100, max: 104 }).map(hex), { nil: null, freq: 3 });
const keyArb = fc.integer({ min: 0, max: 30 }).map((i) => `K${i}`);

const nightArb: fc.Arbitrary<Night> = fc
  .record({
    mode: fc.constantFrom<LoadMode>('full', 'delta'),
    stored: fc.uniqueArray(fc.record({ key: keyArb, hash: hashArb, line: lineArb, active: fc.boolean() }), {
      selector: (r) => r.key,
      maxLength: 20,
    }),
    rows: fc.uniqueArray(fc.record({ key: keyArb, hash: hashArb, line: lineArb }), {
      selector: (r) => r.key,
      maxLength: 25,
    }),
    batchSize: fc.integer({ min: 1, max: 8 }),
    knownShare: fc.integer({ min: 0, max: 3 }),
    held: fc.uniqueArray(keyArb, { maxLength: 4 }),
    keyless: fc.constantFrom(0, 0, 0, 1, 3),
  })
  .map(({ mode, stored, rows, batchSize, knownShare, held, keyless }) => {
    const file = new Set(rows.map((r) => r.key));
    // A known line is a stored active row the file shows unchanged: the reader skips it unread.
    const known = stored
      .filter((s, i) => s.active && !file.has(s.key) && i % 4 < knownShare)
      .map((s) => s.key)
      .filter((k) => !held.includes(k));
    const staged: StagedRow[] = rows
      .filter((r) => !held.includes(r.key))
      .map((r) => ({ key: r.key, values: [r.key], hash: r.hash, line: r.line }));
    const batches: StagedRow[][] = [];
    for (let i = 0; i < staged.length; i += batchSize) batches.push(staged.slice(i, i + batchSize));
    return {
      mode,
      stored: stored.map((s, i) => ({ ...s, address: 1 + i * 7 })),
      batches,
      known,
      held: held.filter((k) => !known.includes(k)),
      keyless,
    };
  });

/** The rules, one row at a time, against a Map. */
function reference(night: Night): {
  actions: Array<[string, RowAction, number | null]>;
  end: number[];
  deferred: number;
} {
  const stored = new Map(night.stored.map((s) => [s.key, s]));
  const shown = new Set<string>(night.known);
  const actions: Array<[string, RowAction, number | null]> = [];
  const valid = (h: string): boolean => /^[0-9a-f]{16}$/.test(h);
  for (const row of night.batches.flat()) {
    shown.add(row.key);
    const s = stored.get(row.key);
    let action: RowAction;
    if (!s) action = 'insert';
    else if (!s.active) action = 'reactivate';
    else if (!valid(s.hash) || s.hash !== row.hash) action = 'update';
    else if (row.line !== null && row.line !== s.line) action = 'refreshLine';
    else action = 'unchanged';
    actions.push([row.key, action, s ? s.address : null]);
  }
  for (const k of night.held) shown.add(k);
  const unseen = night.stored.filter((s) => s.active && !shown.has(s.key)).map((s) => s.address);
  if (night.mode !== 'full') return { actions, end: [], deferred: 0 };
  if (night.keyless > 0) return { actions, end: [], deferred: unseen.length };
  return { actions, end: unseen, deferred: 0 };
}

function planned(night: Night): ReturnType<typeof reference> & { batchesAgree: boolean } {
  const digest = new MirrorDigest();
  for (const s of night.stored) digest.add(s.key, s.hash, s.active, s.line, s.address);
  for (const k of night.known) digest.showKey(digest.findKey(k), 1);
  const plan = new MergePlan(digest, night.mode);
  const actions: Array<[string, RowAction, number | null]> = [];
  let batchesAgree = true;
  for (const rows of night.batches) {
    const batch = plan.batch(rows);
    // The batch's lists are the same decisions, grouped for a writer.
    const inserts = new Set(batch.inserts.map((r) => r.key));
    const changes = new Map(batch.changes.map((c) => [c.row.key, c]));
    const refreshes = new Set(batch.lineRefreshes.map((r) => r.address));
    let unchanged = 0;
    for (const row of rows) {
      const change = changes.get(row.key);
      const action: RowAction = inserts.has(row.key)
        ? 'insert'
        : change
          ? change.op
          : refreshes.has(addressIn(night, row.key))
            ? 'refreshLine'
            : 'unchanged';
      if (action === 'unchanged' || action === 'refreshLine') unchanged++;
      actions.push([row.key, action, change ? change.address : action === 'insert' ? null : addressIn(night, row.key)]);
    }
    if (unchanged !== batch.unchanged) batchesAgree = false;
  }
  const end = plan.end({ keys: new Set(night.held), keyless: night.keyless });
  return { actions, end: [...end.addresses()], deferred: end.deferred, batchesAgree };
}

function addressIn(night: Night, key: string): number {
  return night.stored.find((s) => s.key === key)?.address ?? -1;
}

describe('MergePlan', () => {
  it('agrees with a naive reference on every row and on what a full file deactivates or defers', () => {
    fc.assert(
      fc.property(nightArb, (night) => {
        const got = planned(night);
        const want = reference(night);
        expect(got.actions).toEqual(want.actions);
        expect(got.end).toEqual(want.end);
        expect(got.deferred).toBe(want.deferred);
        expect(got.batchesAgree).toBe(true);
      }),
      { numRuns: 1000, seed: 20261206 },
    );
  });

  it('classifies one row at a time as the batches do, and reports the row it found', () => {
    const digest = new MirrorDigest();
    digest.add('A', hex(1), true, hex(100), 11);
    digest.add('B', hex(2), false, null, 12);
    digest.add('C', hex(3), true, hex(101), 13);
    const plan = new MergePlan(digest, 'full');
    expect(plan.firstLoad).toBe(false);
    const row = (key: string, hash: string, line: string | null): StagedRow => ({ key, values: [], hash, line });
    expect(plan.classify(row('A', hex(1), hex(100)))).toBe('unchanged');
    expect(plan.classify(row('A', hex(1), hex(104)))).toBe('refreshLine');
    expect(plan.lastAddress()).toBe(11);
    expect(plan.classify(row('B', hex(2), null))).toBe('reactivate');
    expect(plan.lastAddress()).toBe(12);
    expect(plan.classify(row('Z', hex(2), null))).toBe('insert');
    expect(plan.lastAddress()).toBeNull();
    // C was not shown: a full file deactivates it, once.
    const end = plan.end(undefined);
    expect([end.deactivate, [...end.addresses()], end.deferred]).toEqual([1, [13], 0]);
    expect(() => plan.end(undefined)).toThrow(/already ended/);
  });

  it('is a first load when the school has no stored rows, and then deactivates nothing', () => {
    const plan = new MergePlan(new MirrorDigest(), 'full');
    expect(plan.firstLoad).toBe(true);
    const batch = plan.batch([{ key: 'A', values: [], hash: hex(1), line: null }]);
    expect(batch.inserts.map((r) => r.key)).toEqual(['A']);
    expect(plan.end({ keys: new Set(), keyless: 2 })).toMatchObject({ deactivate: 0, deferred: 0 });
  });

  it('looks a key the digest lacks up among the inactive rows it does not hold, and reactivates one it finds', () => {
    const digest = new MirrorDigest();
    digest.add('A', hex(1), true, hex(100), 11);
    digest.inactiveNotHeld = true;
    const asked: string[] = [];
    const plan = new MergePlan(digest, 'full', (row) => {
      asked.push(row.key);
      return row.key === 'B' ? 42 : null;
    });
    // Not a first load: the school's rows may all be inactive.
    expect(plan.firstLoad).toBe(false);
    expect(plan.insertsMayReturn).toBe(false);
    const batch = plan.batch([
      { key: 'A', values: [], hash: hex(1), line: hex(100) },
      { key: 'B', values: [], hash: hex(2), line: null },
      { key: 'Z', values: [], hash: hex(3), line: null },
    ]);
    // The held row is never looked up; B returns, Z is new.
    expect(asked).toEqual(['B', 'Z']);
    expect(batch.changes.map((c) => [c.row.key, c.op, c.address])).toEqual([['B', 'reactivate', 42]]);
    expect(batch.inserts.map((r) => r.key)).toEqual(['Z']);
    expect(plan.end(undefined).deactivate).toBe(0);

    // Without a lookup, the writer is told to resolve its inserts itself.
    const only = new MirrorDigest();
    only.inactiveNotHeld = true;
    const unresolved = new MergePlan(only, 'full');
    expect([unresolved.firstLoad, unresolved.insertsMayReturn]).toEqual([false, true]);
    expect(unresolved.classify({ key: 'B', values: [], hash: hex(2), line: null })).toBe('insert');
    // A digest holding every row asks nothing.
    expect(new MergePlan(new MirrorDigest(), 'full').insertsMayReturn).toBe(false);
  });

  it('refuses a digest row it could not reach rather than inserting its key twice', () => {
    const digest = new MirrorDigest();
    digest.add('A', hex(1), true, null, 0);
    const plan = new MergePlan(digest, 'delta');
    expect(() => plan.classify({ key: 'A', values: [], hash: hex(2), line: null })).toThrow(/without its address/);
  });
});

describe('repeatedLoad', () => {
  const last: PreviousLoad = {
    runId: 7,
    sha256: 'a'.repeat(64),
    readAs: readAsOf('{"columns":[]}', 65536),
    mode: 'full',
    records: 120,
    rows: 120,
    rejected: 0,
  };
  const file: FileIdentity = { sha256: last.sha256, readAs: last.readAs as string, mode: 'full' };

  it('repeats a load of the same bytes, read the same way, in the same mode, that kept every row', () => {
    expect(repeatedLoad([last], file)).toBe(last);
  });

  it('reads anything else: other bytes, another reading or mode, rejects, two files, or no load yet', () => {
    expect(repeatedLoad([], file)).toBeNull();
    expect(repeatedLoad([last], { ...file, sha256: 'b'.repeat(64) })).toBeNull();
    expect(repeatedLoad([last], { ...file, readAs: readAsOf('{"columns":[]}', 4096) })).toBeNull();
    expect(repeatedLoad([last], { ...file, readAs: readAsOf('{"columns":[1]}', 65536) })).toBeNull();
    expect(repeatedLoad([last], { ...file, mode: 'delta' })).toBeNull();
    expect(repeatedLoad([{ ...last, rejected: 1, rows: 119 }], file)).toBeNull();
    expect(repeatedLoad([{ ...last, readAs: null }], file)).toBeNull();
    expect(repeatedLoad([last, { ...last, mode: 'delta' }], file)).toBeNull();
  });
});
