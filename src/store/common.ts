import type { RollbackRecord, RunRecord, RunStatus, RunTrigger } from './types.js';

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
    filesetSha256: (row.fileset_sha256 as string | null) ?? null,
    overrides: typeof overrides === 'string' ? (JSON.parse(overrides) as string[]) : Array.isArray(overrides) ? (overrides as string[]) : [],
    reason: (row.reason as string | null) ?? null,
    errorCode: (row.error_code as string | null) ?? null,
    archivePath: (row.archive_path as string | null) ?? null,
    rollbackId: row.rollback_id === null || row.rollback_id === undefined ? null : Number(row.rollback_id),
    changesPruned: row.changes_pruned === true || row.changes_pruned === 1,
  };
}

const parsed = <T>(v: unknown, fallback: T): T => (typeof v === 'string' ? (JSON.parse(v) as T) : v === null || v === undefined ? fallback : (v as T));

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
