import type { ErrorCode } from '../errors/index.js';
import { countsOf, zeroCounts, type MergeCounts, type RunFileRecord, type RunOutcome } from '../store/index.js';
import type { FileLoadResult } from './load-file.js';

/**
 * A school's run in figures: what each file's load did, summed for the run, shaped for the
 * ledger (files and outcome) and for the result's table rows. Pure.
 */

export interface TableSummary extends MergeCounts {
  readonly file: string;
  readonly table: string;
  readonly mode: string;
  readonly rows: number;
  /** Of `rows`, those counted unchanged from their line hash alone, without being read. */
  readonly known: number;
  readonly rejected: number;
  /** Of `rejected`, how many by error code. */
  readonly rejectsByCode: Partial<Record<ErrorCode, number>>;
  readonly error: string | null;
  /** The run whose load of the same bytes this file repeated: not read past its header, every row unchanged. */
  readonly unchangedSince: number | null;
}

export interface RunStats extends MergeCounts {
  files: number;
  records: number;
  rows: number;
  rejected: number;
  errorRate: number;
  durationMs: number;
}

export function summarise(results: readonly FileLoadResult[]): RunStats {
  const s: RunStats = {
    ...zeroCounts(),
    files: results.length,
    records: 0,
    rows: 0,
    rejected: 0,
    errorRate: 0,
    durationMs: 0,
  };
  for (const r of results) {
    s.records += r.records;
    s.rows += r.rows;
    s.rejected += r.rejected;
    s.inserted += r.inserted;
    s.updated += r.updated;
    s.deactivated += r.deactivated;
    s.reactivated += r.reactivated;
    s.unchanged += r.unchanged;
    s.held += r.held;
    s.deferred += r.deferred;
  }
  s.errorRate = s.records === 0 ? 0 : s.rejected / s.records;
  return s;
}

export function fileRecord(r: FileLoadResult, checksums: ReadonlyMap<string, string>): RunFileRecord {
  return {
    fileName: r.file.name,
    table: r.file.table,
    tableId: r.file.tableId,
    mode: r.file.mode,
    sha256: checksums.get(r.file.name) ?? '',
    bytes: r.file.bytes,
    records: r.records,
    rows: r.rows,
    rejected: r.rejected,
    ...countsOf(r),
    error: fileError(r),
    readAs: r.readAs,
    unchangedSince: r.unchangedSince,
  };
}

/** Why a file loaded nothing, code first, so `run` and the ledger show the code `validate` shows. */
export function fileError(r: FileLoadResult): string | null {
  return r.error ? `${r.error.code}: ${r.error.message}` : null;
}

export function outcome(
  status: RunOutcome['status'],
  stats: RunStats,
  fileset: string | null,
  overrides: readonly string[],
  reason: string | null,
  errorCode: ErrorCode | null,
): RunOutcome {
  return { status, finishedAt: new Date(), ...stats, filesetSha256: fileset, overrides, reason, errorCode };
}

/** The table rows of a school's result, from what loading each file did. */
export function tableSummaries(loaded: readonly FileLoadResult[]): TableSummary[] {
  return loaded.map((r) => ({
    file: r.file.name,
    table: r.file.table,
    mode: r.file.mode,
    rows: r.rows,
    known: r.known,
    rejected: r.rejected,
    rejectsByCode: r.rejectsByCode,
    error: fileError(r),
    unchangedSince: r.unchangedSince,
    ...countsOf(r),
  }));
}

/** What a published night left undone on purpose: deactivations deferred by keyless rejects, per file. */
export function deferralNotes(loaded: readonly FileLoadResult[]): string[] {
  return loaded
    .filter((r) => r.deferred > 0)
    .map(
      (r) =>
        `${r.file.name}: deactivations deferred (ETL_LOAD_DEFERRED): ${r.deferred} ${r.file.table} row${r.deferred === 1 ? '' : 's'} ` +
        `missing from the file stay active tonight, because rejected rows had no readable key; the next clean night applies them`,
    );
}
