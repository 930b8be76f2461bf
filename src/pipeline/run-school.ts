import { hostname } from 'node:os';

import type { Config } from '../config/index.js';
import { coerceError, describeFailure, type ErrorCode, type Reject } from '../errors/index.js';
import type { FileSet } from '../extract/index.js';
import { archiveFiles, evaluateGuards, pruneArchives, type GuardTrip } from '../load/index.js';
import { mirrorTableName, type ViewDef } from '../schema/index.js';
import { storeFailureKind, type KeptView, type RunStatus, type RunTrigger, type Store } from '../store/index.js';
import { withRetry } from '../util/index.js';
import { checksumFiles } from './checksums.js';
import {
  deferralNotes,
  fileError,
  fileRecord,
  outcome,
  summarise,
  tableSummaries,
  type RunStats,
  type TableSummary,
} from './run-summary.js';
import { loadFile, unreadableFile, type FileLoadResult } from './load-file.js';

/** Options for one school's run. */
export interface SchoolRunOptions {
  readonly trigger: RunTrigger;
  readonly jobId: string | null;
  readonly dryRun: boolean;
  /** Load the file set even when it equals the school's latest published one. */
  readonly force: boolean;
  /** Read every line of every file, taking none as unchanged unread (see EtlOptions.reread; recorded). */
  readonly reread?: boolean;
  /** Override every guard rail, for this run only (recorded). */
  readonly overrideGuards: boolean;
  /** Override the shrink and empty-file guards, for this run only (recorded). */
  readonly allowShrink: boolean;
  readonly onProgress?: (event: ProgressEvent) => void;
}

export type ProgressEvent =
  | {
      /** Before the school's files are read at all (their checksums come first). */
      readonly kind: 'school-start';
      readonly school: string;
      readonly files: number;
    }
  | {
      readonly kind: 'file-start';
      readonly school: string;
      readonly file: string;
      readonly table: string;
      readonly index: number;
      readonly total: number;
    }
  | {
      /** After each stretch of a file is read: how far through it the load is. */
      readonly kind: 'file-read';
      readonly school: string;
      readonly file: string;
      readonly table: string;
      readonly index: number;
      readonly total: number;
      /** Records read so far: rows, rejects and lines known unchanged. */
      readonly records: number;
      /** Bytes of the file read so far, of `bytes`. */
      readonly bytesRead: number;
      /** The file's size. */
      readonly bytes: number;
    }
  | {
      readonly kind: 'file-deactivate';
      readonly school: string;
      readonly file: string;
      readonly table: string;
      readonly done: number;
      readonly total: number;
    }
  | {
      readonly kind: 'file-done';
      readonly school: string;
      readonly file: string;
      readonly table: string;
      readonly index: number;
      readonly total: number;
      readonly rows: number;
      readonly rejected: number;
    };

/** The outcome of one school's run. */
export interface SchoolRunResult {
  readonly runId: number;
  readonly school: string;
  readonly status: Exclude<RunStatus, 'running' | 'rolled_back'>;
  /** True when the run published (or would have, for a dry run) or was skipped. */
  readonly success: boolean;
  readonly dryRun: boolean;
  readonly reason: string | null;
  readonly stats: RunStats;
  readonly tables: readonly TableSummary[];
  /** Guard rails that tripped, overridden or not. */
  readonly guards: readonly GuardTrip[];
  readonly errors: readonly string[];
  readonly archivePath: string | null;
}

/**
 * One school's night, all or nothing: checksums, then under the school's run lock and in one
 * transaction: skip if this file set equals the school's latest published one, load every file,
 * check the guard rails, and either publish or roll the data back, recording the run either way.
 * Archiving happens after the commit. Bad data, unreadable files and tripped guards come back
 * as a failed result; infrastructure failures (database, I/O after retries) throw, after the run
 * is recorded as failed with the failure's own code.
 */
export async function runSchool(
  config: Config,
  store: Store,
  set: FileSet,
  views: readonly ViewDef[],
  options: SchoolRunOptions,
): Promise<SchoolRunResult> {
  const school = set.school;
  const overrides = [
    ...(options.force ? ['force'] : []),
    ...(options.reread === true ? ['reread'] : []),
    ...(options.overrideGuards ? ['override-guards'] : []),
    ...(options.allowShrink ? ['allow-shrink'] : []),
  ];
  // A run needs the checksums before it loads only to skip a file set already published: a
  // forced run, or one of a school that has never published, loads while they are worked out.
  options.onProgress?.({ kind: 'school-start', school, files: set.files.length });
  const sums = checksumFiles(config, set);

  const result = await store.withRunSession(school, config.lockTimeoutMs, async (session) => {
    // The run starts when it holds the school's lock, not while it waits for another run.
    const startedAt = new Date();
    const runId = await session.startRun({
      school,
      trigger: options.trigger,
      jobId: options.jobId,
      dryRun: options.dryRun,
      sourceDir: set.files[0]?.path.replace(/[/\\][^/\\]*$/, '') ?? '',
      host: hostname(),
      pid: process.pid,
      startedAt,
    });
    const loaded: FileLoadResult[] = [];
    try {
      return await session.transaction(async (tx): Promise<SchoolRunResult> => {
        await tx.failInterruptedRuns(school, runId);
        const finish = async (
          status: SchoolRunResult['status'],
          reason: string | null,
          errorCode: ErrorCode | null,
          guards: GuardTrip[],
        ): Promise<SchoolRunResult> => {
          const { checksums, fileset } = await sums.all;
          const stats = { ...summarise(loaded), durationMs: Date.now() - startedAt.getTime() };
          const rejects: Reject[] = loaded.flatMap((r) => r.rejects);
          await tx.recordRun(
            runId,
            outcome(status, stats, fileset, overrides, reason, errorCode),
            loaded.map((r) => fileRecord(r, checksums)),
            rejects,
          );
          return {
            runId,
            school,
            status,
            success: status !== 'failed',
            dryRun: options.dryRun,
            reason,
            stats,
            tables: tableSummaries(loaded),
            guards,
            errors: [
              ...guards.filter((g) => !g.overridden).map((g) => g.message),
              ...loaded.filter((r) => r.error).map((r) => `${r.file.name}: ${fileError(r)}`),
            ],
            archivePath: null,
          };
        };

        if (!options.force) {
          // Only the latest published set is skipped: an older night's set is loaded, since the
          // data has moved on from it (night A, night B, then A again must bring A back).
          const latest = await tx.latestPublishedFileset(school);
          if (latest && latest.filesetSha256 === (await sums.all).fileset) {
            // Nothing to load, but the views are made as this version and configuration define them.
            const kept = options.dryRun ? [] : keptViewNotes(await tx.ensureViews(views));
            const why =
              latest.rollbackId !== null
                ? `this file set was published by run ${latest.runId} and rolled back (rollback ${latest.rollbackId}); --force loads it again`
                : `this file set was already published by run ${latest.runId}`;
            return finish('skipped', [why, ...kept].join('; '), kept.length > 0 ? 'ETL_VIEW_KEPT' : null, []);
          }
        }
        // Only a full file can trip the shrink guard, so only full files' tables are looked up.
        const lastRows = await tx.lastPublishedRows(
          school,
          set.files.filter((f) => f.mode === 'full').map((f) => f.table),
        );
        await tx.savepoint();
        for (const [index, file] of set.files.entries()) {
          // A file read for its checksum is loaded from memory, which never waits: between files
          // the event loop gets its turn (progress reports, a job's lock renewal, HTTP).
          if (index > 0) await new Promise<void>((resolve) => setImmediate(resolve));
          options.onProgress?.({
            kind: 'file-start',
            school,
            file: file.name,
            table: file.table,
            index,
            total: set.files.length,
          });
          const sum = await sums.checksum(file.name);
          const onDeactivate = (done: number, total: number): void =>
            options.onProgress?.({ kind: 'file-deactivate', school, file: file.name, table: file.table, done, total });
          const onRead = (records: number, bytesRead: number): void =>
            options.onProgress?.({
              kind: 'file-read',
              school,
              file: file.name,
              table: file.table,
              index,
              total: set.files.length,
              records,
              bytesRead,
              bytes: file.bytes,
            });
          const load = {
            runId,
            school,
            maxStoredRejects: config.maxStoredRejects,
            lines: config.lines,
            onDeactivate,
            onRead,
            bytes: sums.takeBytes(file.name),
            reread: options.reread === true,
            // A file exactly as the table was last loaded from is not read again (plan/unchanged.ts).
            ...('sha256' in sum && options.reread !== true ? { sha256: sum.sha256 } : {}),
          };
          const r = 'sha256' in sum ? await loadFile(tx, file, load) : unreadableFile(file, sum.unreadable);
          loaded.push(r);
          options.onProgress?.({
            kind: 'file-done',
            school,
            file: file.name,
            table: file.table,
            index,
            total: set.files.length,
            rows: r.rows,
            rejected: r.rejected,
          });
          if (r.aborted === true) {
            // The file broke off part way: what it wrote cannot be told from the rest, so the night fails whole.
            await tx.rollbackToSavepoint();
            return finish('failed', `${file.name}: ${r.error?.message ?? 'unreadable'}`, 'ETL_SOURCE_UNREADABLE', []);
          }
        }

        const required = new Set([
          ...config.requiredTables,
          ...set.files.filter((f) => f.layout.required).map((f) => f.table),
        ]);
        const guards = evaluateGuards({
          // An empty file has no header and so is "unreadable"; the empty-file guard speaks for it.
          files: loaded.map((r) => ({
            name: r.file.name,
            table: r.file.table,
            mode: r.file.mode,
            records: r.records,
            rows: r.rows,
            rejected: r.rejected,
            error: r.error?.code === 'ETL_PARSE_EMPTY_FILE' ? null : (r.error?.message ?? null),
          })),
          missingRequired: set.missingRequired,
          conflicts: set.conflicts,
          requiredTables: required,
          lastPublishedRows: lastRows,
          maxErrorRate: config.maxErrorRate,
          maxShrink: config.maxShrink,
          overrideGuards: options.overrideGuards,
          allowShrink: options.allowShrink,
        });
        const blocking = guards.filter((g) => !g.overridden);
        if (blocking.length > 0 || options.dryRun) await tx.rollbackToSavepoint();
        if (blocking.length > 0)
          return finish('failed', blocking.map((g) => g.message).join('; '), blocking[0]?.code ?? null, guards);
        // Once every file is in: a view may join tables loaded after its own (a label's lookup table).
        const kept = options.dryRun ? [] : keptViewNotes(await tx.ensureViews(views));
        const deferred = deferralNotes(loaded);
        const clean =
          deferred.length === 0 && kept.length === 0 && loaded.every((r) => r.rejected === 0 && r.error === null);
        const notes = [
          ...(options.dryRun ? ['dry run: nothing was published'] : []),
          ...(guards.length > 0 ? [`published with overrides: ${guards.map((g) => g.message).join('; ')}`] : []),
          ...deferred,
          ...kept,
        ];
        const published = await finish(
          clean ? 'succeeded' : 'warning',
          notes.length > 0 ? notes.join('; ') : null,
          deferred.length > 0 ? 'ETL_LOAD_DEFERRED' : kept.length > 0 ? 'ETL_VIEW_KEPT' : null,
          guards,
        );
        // Change history beyond the retention window goes in the same transaction as the run that
        // pushed it out, into the compact history unless older than ETL_HISTORY_DAYS.
        if (!options.dryRun) await tx.pruneChanges(school, config.snapshotRetention, historySince(config));
        return published;
      });
    } catch (err) {
      // The transaction rolled back; record the failure on its own, with its own code, and let
      // the caller decide on retries (only known infrastructure failures are retried).
      const failure = describeFailure(err, storeFailureKind);
      const stats = { ...summarise(loaded), durationMs: Date.now() - startedAt.getTime() };
      const known = await sums.all;
      await session
        .recordFailure(
          runId,
          outcome('failed', stats, known.fileset, overrides, failure.reason, failure.code),
          loaded.map((r) => fileRecord(r, known.checksums)),
          [],
        )
        .catch(() => undefined);
      throw err;
    }
  });

  if (result.status === 'skipped' || result.status === 'failed' || result.dryRun) return result;
  const tidied = await reclaim(store, result);
  if (config.archiveDirectory === null) return tidied;
  return archive(config, store, set, (await sums.all).checksums, tidied);
}

/**
 * The ledger tables a night writes, beside its files' mirror tables. The compact history is the
 * table etl_history on SQLite and etl_history_packed on PostgreSQL; a store passes over a name it
 * does not hold as a table.
 */
const LEDGER_TABLES = ['etl_changes', 'etl_history', 'etl_history_packed', 'etl_rejects', 'etl_run_files', 'etl_runs'];

/** What a run says of each view it kept as it was (Store.ensureViews): which, and what depends on it. */
function keptViewNotes(kept: readonly KeptView[]): string[] {
  return kept.map(
    (k) =>
      `ETL_VIEW_KEPT: view ${k.view} kept its earlier definition, since ${k.dependents.length > 0 ? k.dependents.join(', ') : 'other views'} ${k.dependents.length === 1 ? 'depends' : 'depend'} on it; drop ${k.dependents.length === 1 ? 'it' : 'them'} and the next run replaces the view`,
  );
}

/** The oldest run end whose changes the compact history keeps: ETL_HISTORY_DAYS ago (now, for 0). */
function historySince(config: Config): Date {
  return new Date(Date.now() - config.historyDays * 86_400_000);
}

/**
 * After a night publishes, room is made again in the tables it wrote (Store.reclaim), so a year
 * of nights keeps the database the size of its data and its statistics current. A failure is
 * told, and costs the night nothing.
 */
async function reclaim(store: Store, result: SchoolRunResult): Promise<SchoolRunResult> {
  const tables = [...new Set(result.tables.map((t) => mirrorTableName(t.table))), ...LEDGER_TABLES];
  try {
    await store.reclaim(tables);
    return result;
  } catch (err) {
    return {
      ...result,
      errors: [...result.errors, `vacuum after the night failed (it is published): ${coerceError(err).message}`],
    };
  }
}

async function archive(
  config: Config,
  store: Store,
  set: FileSet,
  checksums: ReadonlyMap<string, string>,
  result: SchoolRunResult,
): Promise<SchoolRunResult> {
  const root = config.archiveDirectory as string;
  const files = set.files.map((f) => ({
    name: f.name,
    path: f.path,
    bytes: f.bytes,
    sha256: checksums.get(f.name) ?? '',
  }));
  try {
    const { path, notArchived } = await withRetry(
      () => archiveFiles(root, set.school, result.runId, new Date(), files),
      config.retry,
    );
    await store.withRunSession(set.school, config.lockTimeoutMs, (s) => s.setArchivePath(result.runId, path));
    await pruneArchives(root, set.school, config.archiveDays, new Date());
    // The night is published as loaded; only its archive is short of the files whose names now hold other bytes.
    const missing = notArchived.map((n) => `archive: ${n.name} ${n.reason}; not archived`);
    return { ...result, archivePath: path, errors: [...result.errors, ...missing] };
  } catch (err) {
    // The data is published; a failed copy is worth a warning, not a failed night.
    return { ...result, errors: [...result.errors, `archive failed: ${coerceError(err).message}`] };
  }
}
