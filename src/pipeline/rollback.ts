import { hostname, userInfo } from 'node:os';

import { loadEnvironmentConfig, type Config } from '../config/index.js';
import { EtlError } from '../errors/index.js';
import { notifierFor, rollbackNotification, type Delivery, type Notifier } from '../notify/index.js';
import { createStore, type RunRecord, type Store, type UndoCounts } from '../store/index.js';

/**
 * Full rollback: any published run can be undone exactly, from the change log the load wrote.
 * Only the school's latest published run can be undone on its own; an older one needs `cascade`,
 * which undoes the later runs first, newest first. All of it is one transaction.
 */

export interface RollbackOptions {
  /** Undo the later runs of the school too, newest first. */
  readonly cascade?: boolean;
  /** Report what would change, per run and table, changing nothing. */
  readonly dryRun?: boolean;
  /** Who asked, for the ledger; default `cli:<user>@<host>`. */
  readonly requestedBy?: string;
  /** Why, for the ledger. */
  readonly reason?: string;
  readonly config?: Config;
  readonly store?: Store;
  /** Who to tell once it is done; default the channels the configuration names, null for nobody. */
  readonly notifier?: Notifier | null;
  /** Told before each run is undone (or planned). */
  readonly onProgress?: (runId: number, index: number, total: number) => void;
}

export interface RollbackResult {
  /** The rollback's ledger id; null for a dry run. */
  readonly rollbackId: number | null;
  readonly runId: number;
  readonly school: string;
  readonly dryRun: boolean;
  /** Every run undone (or that would be), newest first, with what it did per table. */
  readonly runs: ReadonlyArray<{ readonly runId: number; readonly tables: readonly UndoCounts[] }>;
  readonly rowsDeleted: number;
  readonly rowsRestored: number;
  /** Each notification sent, per channel (none for a dry run). */
  readonly notifications: readonly Delivery[];
}

function defaultRequester(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (some containers): the host still says where it came from.
  }
  return `cli:${user}@${hostname()}`;
}

function assertUndoable(run: RunRecord): void {
  if (run.status === 'rolled_back') {
    throw new EtlError(
      'ETL_ROLLBACK_ALREADY',
      `run ${run.id} was already rolled back${run.rollbackId ? ` (rollback ${run.rollbackId})` : ''}`,
    );
  }
  if (run.dryRun || (run.status !== 'succeeded' && run.status !== 'warning')) {
    throw new EtlError(
      'ETL_ROLLBACK_NOT_PUBLISHED',
      `run ${run.id} ${run.dryRun ? 'was a dry run' : `has status ${run.status}`}: it published nothing, so there is nothing to roll back`,
    );
  }
}

/** Undoes `runId` (and, with `cascade`, the school's later runs). Refusals throw EtlError with an ETL_ROLLBACK_* code. */
export async function rollbackRun(runId: number, options: RollbackOptions = {}): Promise<RollbackResult> {
  const config = options.config ?? loadEnvironmentConfig();
  const ownStore = options.store === undefined;
  const store = options.store ?? (await createStore(config.database, { lockTimeoutMs: config.lockTimeoutMs }));
  try {
    if (ownStore) await store.migrate();
    const first = await store.getRun(runId);
    if (!first) throw new EtlError('ETL_RUN_UNKNOWN', `there is no run ${runId}`);
    const startedAt = new Date();
    const requestedBy = options.requestedBy ?? defaultRequester();
    const done = await store.withRunSession(first.school, config.lockTimeoutMs, (session) =>
      session.transaction(async (tx) => {
        // Read again under the school's lock: a run may have finished or been undone meanwhile.
        const run = (await tx.getRun(runId)) as RunRecord;
        assertUndoable(run);
        const later = await tx.publishedRunsAfter(run.school, run.id);
        if (later.length > 0 && !options.cascade) {
          throw new EtlError(
            'ETL_ROLLBACK_BLOCKED',
            `run ${run.id} is not the latest published run of school ${run.school}: run${later.length > 1 ? 's' : ''} ${later.map((r) => r.id).join(', ')} came after it. Roll ${later.length > 1 ? 'them' : 'it'} back first, or use --cascade to undo ${later.length > 1 ? 'them' : 'it'} too, newest first.`,
          );
        }
        const targets = [...later, run];
        const pruned = targets.filter((r) => r.changesPruned);
        if (pruned.length > 0) {
          throw new EtlError(
            'ETL_ROLLBACK_PRUNED',
            `the change history of run${pruned.length > 1 ? 's' : ''} ${pruned.map((r) => r.id).join(', ')} was pruned: ` +
              `only the newest ${config.snapshotRetention} published runs of a school can be rolled back (ETL_SNAPSHOT_RETENTION), ` +
              'and `cases-etl migrate --rekey` prunes every run that changed the table it rekeys',
          );
        }
        const runs: Array<{ runId: number; tables: UndoCounts[] }> = [];
        for (const [index, t] of targets.entries()) {
          options.onProgress?.(t.id, index, targets.length);
          runs.push({ runId: t.id, tables: options.dryRun ? await tx.planUndo(t.id) : await tx.undoRun(t.id) });
        }
        const rowsDeleted = runs.reduce((n, r) => n + r.tables.reduce((m, t) => m + t.deleted, 0), 0);
        const rowsRestored = runs.reduce((n, r) => n + r.tables.reduce((m, t) => m + t.restored, 0), 0);
        const rollbackId = options.dryRun
          ? null
          : await tx.recordRollback({
              school: run.school,
              targetRunId: run.id,
              runIds: targets.map((t) => t.id),
              requestedBy,
              reason: options.reason ?? null,
              startedAt,
              finishedAt: new Date(),
              rowsDeleted,
              rowsRestored,
              detail: runs,
            });
        return {
          rollbackId,
          runId: run.id,
          school: run.school,
          dryRun: options.dryRun ?? false,
          runs,
          rowsDeleted,
          rowsRestored,
        };
      }),
    );
    // Told after the commit: a rollback that did not happen is reported to whoever asked, not announced.
    const notifier = options.notifier === undefined ? notifierFor(config) : options.notifier;
    const n = rollbackNotification({ ...done, reason: options.reason ?? null }, requestedBy, config.http.publicUrl);
    const notifications = done.dryRun || !notifier || !notifier.wants(n) ? [] : await notifier.send(n);
    return { ...done, notifications };
  } finally {
    if (ownStore) await store.close();
  }
}
