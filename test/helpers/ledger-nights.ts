import { hostname } from 'node:os';

import type { Reject } from '../../src/errors/index.js';
import type { RunFileRecord, RunOutcome, Store } from '../../src/store/index.js';

/**
 * A ledger of many nights written straight through the store (startRun, then recordFailure with
 * the night's outcome), for the console's charts and paging: 60 nights of real runs would take
 * minutes, and the charts only read the ledger. Deterministic, so tests know every value.
 */

/** Rows of each table on night `i`: SF shrinks over the last nights (by more than 10%), so the per-table chart shows it. */
const TABLES = [
  { table: 'KCH', base: 40, step: () => 0 },
  { table: 'SF', base: 180, step: (i: number, n: number) => (i >= n - 5 ? -8 : i % 10 === 0 ? 1 : 0) },
  { table: 'ST', base: 69_940, step: (i: number) => (i % 3 === 0 ? 2 : -1) },
] as const;

/** A key that is a spreadsheet formula: the rejects CSV must defuse it. */
export const FORMULA_KEY = '=HYPERLINK("http://127.0.0.1/x","y")';

export interface SeededNight {
  readonly runId: number;
  readonly school: string;
  readonly startedAt: Date;
  readonly outcome: RunOutcome;
  readonly files: readonly RunFileRecord[];
  readonly rejects: readonly Reject[];
}

export interface SeedOptions {
  readonly school?: string;
  readonly nights?: number;
  /** The last night's start; nights are a day apart before it. Default: the last whole hour but one (always past). */
  readonly last?: Date;
  /** Rejects of the last night (its rows are 70,000, so 289 of them is 0.41%). Default 289. */
  readonly lastNightRejects?: number;
}

const file = (table: string, rows: number, rejected: number, school: string): RunFileRecord => ({
  fileName: `${table}_${school}.csv`,
  table,
  tableId: `${table}_${school}`,
  mode: 'full',
  sha256: `${table}-${rows}`.padEnd(64, '0'),
  bytes: rows * 100,
  records: rows + rejected,
  rows,
  rejected,
  inserted: rows % 7,
  updated: rows % 5,
  deactivated: rows % 3,
  reactivated: 0,
  unchanged: rows - (rows % 7) - (rows % 5),
  held: rejected,
  deferred: 0,
  error: null,
  readAs: 'csv',
  unchangedSince: null,
});

const reject = (table: string, school: string, line: number, key: string): Reject => ({
  file: `${table}_${school}.csv`,
  line,
  key,
  field: line % 2 === 0 ? 'BIRTHDATE' : 'SURNAME',
  code: 'ETL_TYPE_DATE',
  message: `not a date (line ${line})`,
  raw: `${key},secret original line ${line}`,
  rawBytes: 40,
});

/** Writes `nights` finished runs of one school, a day apart, oldest first; returns them as written. */
export async function seedLedgerNights(store: Store, options: SeedOptions = {}): Promise<SeededNight[]> {
  const school = options.school ?? '8865';
  const n = options.nights ?? 60;
  const last = options.last ?? new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000);
  const out: SeededNight[] = [];
  const rows = new Map<string, number>(TABLES.map((t) => [t.table, t.base]));
  for (let i = 0; i < n; i++) {
    const startedAt = new Date(last.getTime() - (n - 1 - i) * 86_400_000);
    for (const t of TABLES) rows.set(t.table, (rows.get(t.table) ?? 0) + t.step(i, n));
    const lastNight = i === n - 1;
    const rejectCount = lastNight ? (options.lastNightRejects ?? 289) : i % 4 === 0 ? (i % 9) + 1 : 0;
    // The last night reads exactly 70,000 rows of ST, so its 289 rejects are 0.41%.
    const files = TABLES.map((t) =>
      file(
        t.table,
        lastNight && t.table === 'ST' ? 70_000 : (rows.get(t.table) ?? 0),
        t.table === 'ST' ? rejectCount : 0,
        school,
      ),
    );
    const rejects = Array.from({ length: rejectCount }, (_, k) =>
      reject('ST', school, k + 2, k === 0 ? FORMULA_KEY : `ST${String(k).padStart(5, '0')}`),
    );
    // Night 30 fails a guard (nothing published); the rest succeed, with a warning when they rejected rows.
    const failed = i === 30;
    const total = files.reduce((a, f) => a + f.rows, 0);
    const sum = (k: 'inserted' | 'updated' | 'deactivated' | 'held'): number => files.reduce((a, f) => a + f[k], 0);
    const outcome: RunOutcome = {
      status: failed ? 'failed' : rejectCount > 0 ? 'warning' : 'succeeded',
      finishedAt: new Date(startedAt.getTime() + 20_000 + ((i * 7) % 13) * 1000),
      files: files.length,
      records: total + rejectCount,
      rows: total,
      rejected: rejectCount,
      errorRate: rejectCount / (total + rejectCount),
      inserted: sum('inserted'),
      updated: sum('updated'),
      deactivated: sum('deactivated'),
      reactivated: 0,
      unchanged: 0,
      held: sum('held'),
      deferred: 0,
      filesetSha256: `set-${i}`,
      overrides: [],
      reason: failed ? 'ST shrank by more than the limit' : null,
      errorCode: failed ? 'ETL_GUARD_SHRINK' : null,
    };
    const runId = await store.withRunSession(school, 10_000, async (session) => {
      const id = await session.startRun({
        school,
        trigger: 'schedule',
        jobId: null,
        dryRun: false,
        sourceDir: '/srv/cases21',
        host: hostname(),
        pid: process.pid,
        startedAt,
      });
      await session.recordFailure(id, outcome, files, rejects);
      return id;
    });
    out.push({ runId, school, startedAt, outcome, files, rejects });
  }
  return out;
}
