import type { LoadMode } from '../layouts/index.js';
import { compareText } from '../util/index.js';
import type {
  HistoryEntry,
  HistoryOp,
  PreviousLoad,
  RejectRecord,
  RollbackRecord,
  RunFileRecord,
  RunRecord,
  RunStatus,
  RunTrigger,
  SchoolSummary,
  TableRowCounts,
  FinishedAs,
} from './types.js';

/** Pieces both adapters share: the in-process mutex, process liveness, ledger row mapping. */

export interface Mutex {
  /** Resolves with a release function, or null if the lock was not free within `timeoutMs`. */
  acquire(timeoutMs: number): Promise<(() => void) | null>;
}

/** A FIFO lock for work inside one process. */
export function createMutex(): Mutex {
  let tail: Promise<void> = Promise.resolve();
  return {
    acquire(timeoutMs) {
      let release!: () => void;
      const mine = new Promise<void>((r) => (release = r));
      const previous = tail;
      tail = previous.then(() => mine);
      return new Promise((resolve) => {
        let timedOut = false;
        const timer = setTimeout(() => {
          timedOut = true;
          resolve(null);
        }, timeoutMs);
        void previous.then(() => {
          clearTimeout(timer);
          // A waiter that gave up still holds its place in the queue; let the next one through.
          if (timedOut) release();
          else resolve(release);
        });
      });
    },
  };
}

/** Whether a process with this id exists on this machine. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function iso(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return v instanceof Date ? v.toISOString() : String(v);
}

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

/** A ledger row (either dialect) as a RunRecord. */
export function toRunRecord(row: Record<string, unknown>): RunRecord {
  const overrides = row.overrides;
  return {
    id: num(row.id),
    school: String(row.school_id),
    status: row.status as RunStatus,
    trigger: row.trigger as RunTrigger,
    jobId: (row.job_id as string | null) ?? null,
    dryRun: row.dry_run === true || row.dry_run === 1,
    sourceDir: (row.source_dir as string | null) ?? null,
    startedAt: iso(row.started_at) ?? '',
    finishedAt: iso(row.finished_at),
    durationMs: row.duration_ms === null || row.duration_ms === undefined ? null : Number(row.duration_ms),
    files: num(row.files),
    records: num(row.records),
    rows: num(row.rows_loaded),
    rejected: num(row.rejected),
    errorRate: num(row.error_rate),
    inserted: num(row.inserted),
    updated: num(row.updated),
    deactivated: num(row.deactivated),
    reactivated: num(row.reactivated),
    unchanged: num(row.unchanged),
    held: num(row.held),
    deferred: num(row.deferred),
    filesetSha256: (row.fileset_sha256 as string | null) ?? null,
    overrides:
      typeof overrides === 'string'
        ? (JSON.parse(overrides) as string[])
        : Array.isArray(overrides)
          ? (overrides as string[])
          : [],
    reason: (row.reason as string | null) ?? null,
    errorCode: (row.error_code as string | null) ?? null,
    archivePath: (row.archive_path as string | null) ?? null,
    rollbackId: row.rollback_id === null || row.rollback_id === undefined ? null : Number(row.rollback_id),
    changesPruned: row.changes_pruned === true || row.changes_pruned === 1,
  };
}

const parsed = <T>(v: unknown, fallback: T): T =>
  typeof v === 'string' ? (JSON.parse(v) as T) : v === null || v === undefined ? fallback : (v as T);

/** A ledger row of etl_rollbacks (either dialect) as a RollbackRecord. */
export function toRollbackRecord(row: Record<string, unknown>): RollbackRecord {
  return {
    id: num(row.id),
    school: String(row.school_id),
    targetRunId: num(row.target_run_id),
    runIds: parsed<number[]>(row.run_ids, []).map(Number),
    requestedBy: String(row.requested_by),
    reason: (row.reason as string | null) ?? null,
    startedAt: iso(row.started_at) ?? '',
    finishedAt: iso(row.finished_at),
    rowsDeleted: num(row.rows_deleted),
    rowsRestored: num(row.rows_restored),
    detail: parsed<RollbackRecord['detail']>(row.detail, []),
  };
}

/** Upper bounds, in seconds, of the run-duration histogram's buckets: a 1,500-student night to a million-row first load. */
export const DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600] as const;

/**
 * The three ledger reads behind `schoolSummaries`, the same text in both dialects: runs by school
 * and status, each school's newest finished run, rollbacks by school. Each is one pass over an
 * index or a grouped scan of etl_runs, so a scrape stays cheap with years of nights.
 */
export const SUMMARY_SQL = {
  byStatus: `SELECT school_id, status, finished_as, count(*) AS runs, sum(inserted) AS inserted, sum(updated) AS updated, sum(deactivated) AS deactivated,
                    sum(reactivated) AS reactivated, sum(rejected) AS rejected, sum(held) AS held, sum(deferred) AS deferred,
                    max(finished_at) AS last_finished, count(duration_ms) AS timed, sum(duration_ms) AS duration_ms,
                    ${DURATION_BUCKETS.map((s, i) => `sum(CASE WHEN duration_ms <= ${s * 1000} THEN 1 ELSE 0 END) AS le_${i}`).join(', ')}
               FROM etl_runs WHERE NOT dry_run GROUP BY school_id, status, finished_as`,
  lastRuns: `SELECT r.* FROM etl_runs r
               JOIN (SELECT school_id, max(id) AS id FROM etl_runs WHERE NOT dry_run AND status <> 'running' GROUP BY school_id) m ON m.id = r.id`,
  rollbacks: 'SELECT school_id, count(*) AS rollbacks FROM etl_rollbacks GROUP BY school_id',
} as const;

/**
 * Store.tableRows: $1 after, $2 through. The watermark is the newest run below any run still
 * running (a run still running may yet publish, and is counted once it has).
 */
export const TABLE_ROWS_SQL = {
  watermark: `SELECT coalesce((SELECT min(id) - 1 FROM etl_runs WHERE status = 'running'), (SELECT max(id) FROM etl_runs), 0) AS through`,
  counts: `SELECT r.school_id, f.table_name, sum(f.inserted + f.reactivated - f.deactivated) AS active,
                  sum(f.deactivated - f.reactivated) AS inactive
             FROM etl_runs r JOIN etl_run_files f ON f.run_id = r.id
            WHERE r.id > $1 AND r.id <= $2 AND r.status IN ('succeeded', 'warning') AND NOT r.dry_run
            GROUP BY r.school_id, f.table_name`,
} as const;

export function toTableRowCounts(through: unknown, rows: ReadonlyArray<Record<string, unknown>>): TableRowCounts {
  return {
    through: num(through),
    tables: rows.map((r) => ({
      school: String(r.school_id),
      table: String(r.table_name),
      active: num(r.active),
      inactive: num(r.inactive),
    })),
  };
}

/** Puts the three reads together, one summary per school, in school order. */
export function toSchoolSummaries(
  byStatus: ReadonlyArray<Record<string, unknown>>,
  lastRuns: ReadonlyArray<Record<string, unknown>>,
  rollbacks: ReadonlyArray<Record<string, unknown>>,
): SchoolSummary[] {
  type Mutable = { -readonly [K in keyof SchoolSummary]: SchoolSummary[K] } & {
    runs: Partial<Record<RunStatus, number>>;
    rows: { inserted: number; updated: number; deactivated: number; reactivated: number };
    kept: { held: number; deferred: number };
    durations: { buckets: number[]; count: number; seconds: number };
    finished: Partial<Record<FinishedAs, number>>;
  };
  const bySchool = new Map<string, Mutable>();
  const of = (school: string): Mutable => {
    let s = bySchool.get(school);
    if (!s)
      bySchool.set(
        school,
        (s = {
          school,
          runs: {},
          finished: {},
          running: 0,
          rows: { inserted: 0, updated: 0, deactivated: 0, reactivated: 0 },
          kept: { held: 0, deferred: 0 },
          durations: { buckets: DURATION_BUCKETS.map(() => 0), count: 0, seconds: 0 },
          rejected: 0,
          rollbacks: 0,
          lastRun: null,
          lastPublishedAt: null,
        }),
      );
    return s;
  };
  for (const row of byStatus) {
    const s = of(String(row.school_id));
    const status = row.status as RunStatus;
    if (status === 'running') {
      s.running = num(row.runs);
      continue;
    }
    s.runs[status] = (s.runs[status] ?? 0) + num(row.runs);
    const finishedAs = (status === 'rolled_back' ? (row.finished_as ?? 'succeeded') : status) as FinishedAs;
    s.finished[finishedAs] = (s.finished[finishedAs] ?? 0) + num(row.runs);
    s.rejected += num(row.rejected);
    s.durations.count += num(row.timed);
    s.durations.seconds += num(row.duration_ms) / 1000;
    DURATION_BUCKETS.forEach((_, i) => (s.durations.buckets[i] = (s.durations.buckets[i] ?? 0) + num(row[`le_${i}`])));
    if (status === 'succeeded' || status === 'warning' || status === 'rolled_back') {
      for (const k of ['inserted', 'updated', 'deactivated', 'reactivated'] as const) s.rows[k] += num(row[k]);
      for (const k of ['held', 'deferred'] as const) s.kept[k] += num(row[k]);
    }
    const finished = iso(row.last_finished);
    if (
      (status === 'succeeded' || status === 'warning') &&
      finished &&
      (!s.lastPublishedAt || Date.parse(finished) > Date.parse(s.lastPublishedAt))
    )
      s.lastPublishedAt = new Date(finished).toISOString();
  }
  for (const row of lastRuns) of(String(row.school_id)).lastRun = toRunRecord(row);
  for (const row of rollbacks) of(String(row.school_id)).rollbacks = num(row.rollbacks);
  return [...bySchool.values()].sort((a, b) => compareText(a.school, b.school));
}

/** A run's files and rejects, PostgreSQL placeholders (SQLite's adapter makes them `?`, in order). */
export const RUN_DETAIL_SQL = {
  files: 'SELECT * FROM etl_run_files WHERE run_id = $1 ORDER BY file_name',
  // The original line is personal data: it stays in the database unless an admin asks (rejectsWithOriginals).
  rejects:
    'SELECT file_name, line, row_key, field, code, message FROM etl_rejects WHERE run_id = $1 ORDER BY file_name, line, id LIMIT $2',
  rejectsWithOriginals: `SELECT file_name, line, row_key, field, code, message, original_line, original_bytes
                           FROM etl_rejects WHERE run_id = $1 ORDER BY file_name, line, id LIMIT $2`,
} as const;

export function toRunFileRecord(row: Record<string, unknown>): RunFileRecord {
  return {
    fileName: String(row.file_name),
    table: String(row.table_name),
    tableId: String(row.table_id),
    mode: row.mode as LoadMode,
    sha256: String(row.sha256),
    bytes: num(row.bytes),
    records: num(row.records),
    rows: num(row.rows_loaded),
    rejected: num(row.rejected),
    inserted: num(row.inserted),
    updated: num(row.updated),
    deactivated: num(row.deactivated),
    reactivated: num(row.reactivated),
    unchanged: num(row.unchanged),
    held: num(row.held),
    deferred: num(row.deferred),
    error: (row.error as string | null) ?? null,
    readAs: (row.read_as as string | null) ?? null,
    unchangedSince: row.unchanged_since === null || row.unchanged_since === undefined ? null : num(row.unchanged_since),
  };
}

/** A row of the ledger's previousLoad query. */
export function toPreviousLoad(row: Record<string, unknown>): PreviousLoad {
  return {
    runId: num(row.run_id),
    sha256: String(row.sha256),
    readAs: (row.read_as as string | null) ?? null,
    mode: row.mode as LoadMode,
    records: num(row.records),
    rows: num(row.rows_loaded),
    rejected: num(row.rejected),
  };
}

export function toRejectRecord(row: Record<string, unknown>): RejectRecord {
  const record = {
    file: String(row.file_name),
    line: num(row.line),
    key: (row.row_key as string | null) ?? null,
    field: (row.field as string | null) ?? null,
    code: String(row.code),
    message: String(row.message),
  };
  if (!('original_line' in row)) return record;
  const originalBytes =
    row.original_bytes === null || row.original_bytes === undefined ? null : num(row.original_bytes);
  return { ...record, originalLine: (row.original_line as string | null) ?? null, originalBytes };
}

/**
 * One row's history (Store.rowHistory), PostgreSQL placeholders (SQLite's adapter makes them `?`,
 * in order): etl_history_all is the window, the compact history and the held rows in one view
 * (migrations 010 and 006), each part found by school, table and key.
 */
export const HISTORY_SQL = {
  /** $1 school, $2 table, $3 key. */
  schoolRow: `SELECT seq, school_id, table_name, row_key, run_id, run_time, op, changes FROM etl_history_all
                WHERE school_id = $1 AND table_name = $2 AND row_key = $3 ORDER BY run_id, seq`,
  /** $1 table, $2 key: the row of that key in every school. */
  anyRow: `SELECT seq, school_id, table_name, row_key, run_id, run_time, op, changes FROM etl_history_all
             WHERE table_name = $1 AND row_key = $2 ORDER BY run_id, seq`,
  /** $1 school. */
  schoolTables: `SELECT DISTINCT f.table_name FROM etl_runs AS r JOIN etl_run_files AS f ON f.run_id = r.id
                   WHERE r.school_id = $1 ORDER BY f.table_name`,
  anyTables: 'SELECT DISTINCT table_name FROM etl_run_files ORDER BY table_name',
} as const;

/** A row of etl_history_all (either dialect) as a HistoryEntry. */
export function toHistoryEntry(row: Record<string, unknown>): HistoryEntry {
  const op = row.op as HistoryOp;
  const detail = parsed<unknown>(row.changes, null);
  return {
    school: String(row.school_id),
    table: String(row.table_name),
    key: String(row.row_key),
    runId: num(row.run_id),
    runTime: iso(row.run_time) ?? '',
    op,
    changes: op === 'held' || detail === null ? null : (detail as HistoryEntry['changes']),
    rejects: op === 'held' ? ((detail ?? []) as HistoryEntry['rejects']) : null,
  };
}
