import type { Reject } from '../errors/index.js';
import type { LoadMode } from '../layouts/index.js';
import type { MirrorTable, RekeyResult, ViewDef } from '../schema/index.js';
import type { MirrorDigest, PreviousLoad, RejectedKeys, StagedRow } from '../plan/index.js';

export type { PreviousLoad, RejectedKeys, StagedRow } from '../plan/index.js';

/**
 * One storage interface, two adapters (store/sqlite, store/postgres). The pipeline talks only to
 * this; each adapter chooses its own bulk path (prepared statements in one SQLite transaction;
 * COPY into a staging table and set-based SQL on PostgreSQL).
 */

export type RunStatus = 'running' | 'succeeded' | 'warning' | 'failed' | 'skipped' | 'rolled_back';

/** What started a run. */
export type RunTrigger = 'cli' | 'library' | 'schedule' | 'manual' | 'api';

export interface NewRun {
  readonly school: string;
  readonly trigger: RunTrigger;
  readonly jobId: string | null;
  readonly dryRun: boolean;
  readonly sourceDir: string;
  readonly host: string;
  readonly pid: number;
  readonly startedAt: Date;
}

/** Row counts of one merge, or the sum over a run. */
export interface MergeCounts {
  inserted: number;
  updated: number;
  deactivated: number;
  reactivated: number;
  unchanged: number;
  /** Rejected rows whose key was read: their stored rows keep their last published version and state. */
  held: number;
  /**
   * Rows a full file did not show that stayed active because the file had rejected rows whose key
   * could not be read (any of them might have been one of these): deactivated on a clean night.
   */
  deferred: number;
}

export function zeroCounts(): MergeCounts {
  return { inserted: 0, updated: 0, deactivated: 0, reactivated: 0, unchanged: 0, held: 0, deferred: 0 };
}

/** Just the counts of something that carries them (a file's load result, a run), for copying on. */
export function countsOf(c: MergeCounts): MergeCounts {
  const { inserted, updated, deactivated, reactivated, unchanged, held, deferred } = c;
  return { inserted, updated, deactivated, reactivated, unchanged, held, deferred };
}

export interface RunFileRecord extends MergeCounts {
  readonly fileName: string;
  readonly table: string;
  readonly tableId: string;
  readonly mode: LoadMode;
  readonly sha256: string;
  readonly bytes: number;
  readonly records: number;
  readonly rows: number;
  readonly rejected: number;
  /** Why the file could not be loaded, when it could not. */
  readonly error: string | null;
  /** How its lines were read (see plan/unchanged.ts); null when it was not read as a table. */
  readonly readAs: string | null;
  /** The run whose load of the same bytes this file repeated, so it was not read (plan/unchanged.ts). */
  readonly unchangedSince: number | null;
}

/** What a finished run loaded and decided: recorded by the run, and read back from the ledger. */
export interface RunSummary extends MergeCounts {
  readonly files: number;
  readonly records: number;
  readonly rows: number;
  readonly rejected: number;
  readonly errorRate: number;
  readonly filesetSha256: string | null;
  /** Guard rails overridden for this run (`force`, `allow-shrink`). */
  readonly overrides: readonly string[];
  /** Why the run was skipped or failed, in a sentence. */
  readonly reason: string | null;
  readonly errorCode: string | null;
}

export interface RunOutcome extends RunSummary {
  readonly status: Exclude<RunStatus, 'running'>;
  readonly finishedAt: Date;
}

/** A run as the ledger holds it. */
export interface RunRecord extends RunSummary {
  readonly id: number;
  readonly school: string;
  readonly status: RunStatus;
  readonly trigger: RunTrigger;
  readonly jobId: string | null;
  readonly dryRun: boolean;
  readonly sourceDir: string | null;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
  readonly archivePath: string | null;
  /** The rollback that undid this run, once it has been rolled back. */
  readonly rollbackId: number | null;
  /** Its etl_changes rows were pruned (ETL_SNAPSHOT_RETENTION): it can no longer be rolled back. */
  readonly changesPruned: boolean;
}

/** What undoing one run does (or would do) to one table. */
export interface UndoCounts {
  /** Base CASES table, e.g. `ST`. */
  readonly table: string;
  /** Rows the run inserted, now deleted. */
  readonly deleted: number;
  /** Rows the run updated, deactivated or reactivated, now back to their state before the run. */
  readonly restored: number;
}

export interface NewRollback {
  readonly school: string;
  /** The run asked for. */
  readonly targetRunId: number;
  /** Every run undone, newest first (the target last). */
  readonly runIds: readonly number[];
  /** Who asked: a user, a token name, `cli:<user>@<host>`. */
  readonly requestedBy: string;
  readonly reason: string | null;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly rowsDeleted: number;
  readonly rowsRestored: number;
  /** Per run, per table. */
  readonly detail: ReadonlyArray<{ readonly runId: number; readonly tables: readonly UndoCounts[] }>;
}

/** A rollback as the ledger holds it. */
export interface RollbackRecord {
  readonly id: number;
  readonly school: string;
  readonly targetRunId: number;
  readonly runIds: readonly number[];
  readonly requestedBy: string;
  readonly reason: string | null;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly rowsDeleted: number;
  readonly rowsRestored: number;
  readonly detail: ReadonlyArray<{ readonly runId: number; readonly tables: readonly UndoCounts[] }>;
}

export interface MergeInput {
  readonly runId: number;
  readonly school: string;
  readonly mirror: MirrorTable;
  readonly mode: LoadMode;
  /** Mirror column names of the values in each StagedRow, in order. */
  readonly columns: readonly string[];
  /**
   * The digest `readDigest` gave: the merge plans the file's rows with it, and the rows the reader
   * skipped as known are already marked seen in it. Read by the merge itself when absent.
   */
  readonly digest?: MirrorDigest;
  /**
   * The file's rejected rows, read by a full file's merge after the last batch: held keys count as
   * shown (not deactivated), and any keyless reject defers the deactivations. None when absent.
   */
  readonly rejected?: RejectedKeys;
  /** Told how far a full file's deactivations have got (`done` of `total` rows), when there are any. */
  readonly onDeactivate?: (done: number, total: number) => void;
}

/**
 * A view left as it was because objects of the database's own depend on it and its new
 * definition could not replace it in place (PostgreSQL refuses to drop a view others use).
 */
export interface KeptView {
  readonly view: string;
  /** The views (or rules) that depend on it, by name. */
  readonly dependents: readonly string[];
}

/** Work inside the run's one transaction. */
export interface LoadTransaction {
  /** Creates the mirror table and adds the columns it lacks (describing them: comments, or the SQLite catalogue). */
  ensureMirror(mirror: MirrorTable): Promise<void>;
  /**
   * Makes each of `views` whose base table exists as its definition says, over the mirror
   * columns and lookup tables that exist now, where it differs: once a run has loaded its files,
   * since a view may join other tables. Views already as they should be are left alone.
   */
  ensureViews(views: readonly ViewDef[]): Promise<readonly KeptView[]>;
  /**
   * A digest of the school's rows in the mirror (key, row hash, line hash, active, address), for
   * the merge plan and for a re-run to skip lines it already holds; empty when the school has no
   * rows there yet. The mirror must exist (ensureMirror runs first).
   */
  readDigest(mirror: MirrorTable, school: string): Promise<MirrorDigest>;
  /** Merges one file's rows into its mirror table, logging every change in etl_changes. */
  mergeFile(input: MergeInput, batches: AsyncIterable<readonly StagedRow[]>): Promise<MergeCounts>;
  /** Marks the point a tripped guard rail or a dry run rolls back to: the data, not the ledger. */
  savepoint(): Promise<void>;
  rollbackToSavepoint(): Promise<void>;
  /**
   * The school's latest run that published a file set, standing or rolled back since, with that
   * set's checksum: a night is skipped only when it equals this one (an older night's set is
   * loaded, since the data has moved on from it; a rolled-back set is not reloaded by itself,
   * since the files that were undone are usually still in the folder). Null before any.
   */
  latestPublishedFileset(
    school: string,
  ): Promise<{ runId: number; filesetSha256: string; rollbackId: number | null } | null>;
  /**
   * The file(s) the school's `table` was last loaded from: the newest published run's, not a dry
   * run, not rolled back, that read a file for the table without a file-level error. Empty when none.
   */
  previousLoad(school: string, table: string): Promise<PreviousLoad[]>;
  /** The school's rows in the mirror table, active or not. */
  countRows(mirror: MirrorTable, school: string): Promise<number>;
  /** Rows loaded by the last published full load of each of `tables` that `school` ever had one of. */
  lastPublishedRows(school: string, tables: readonly string[]): Promise<Map<string, number>>;
  /** Marks the school's runs left 'running' by processes that are gone as failed. */
  failInterruptedRuns(school: string, currentRunId: number): Promise<number>;
  /** Writes the run's outcome, its files and its rejects. */
  recordRun(
    runId: number,
    outcome: RunOutcome,
    files: readonly RunFileRecord[],
    rejects: readonly Reject[],
  ): Promise<void>;
  /**
   * Deletes the etl_changes rows of the school's runs older than its `keep` newest published
   * runs, and marks those runs `changes_pruned`. The changes of those that published and ended
   * at or after `historySince` move to the compact history first (etl_history), and the school's
   * compact history of runs that ended before it goes (ETL_HISTORY_DAYS). Returns the run ids pruned.
   */
  pruneChanges(school: string, keep: number, historySince: Date): Promise<number[]>;

  // Rollback: everything below runs in the same one transaction as the undo itself.
  /** The run, read inside the transaction. */
  getRun(id: number): Promise<RunRecord | null>;
  /** The school's published runs (succeeded or warning, not dry, not rolled back) after `runId`, newest first. */
  publishedRunsAfter(school: string, runId: number): Promise<RunRecord[]>;
  /** Per table, what undoing the run would do, changing nothing. */
  planUndo(runId: number): Promise<UndoCounts[]>;
  /**
   * Puts every row the run changed back as it was before the run: rows it inserted are deleted,
   * rows it updated, deactivated or reactivated get their before image back (values and
   * bookkeeping). A row the run changed twice (a full file, then a delta) gets its first before
   * image. Later runs must have been undone first.
   */
  undoRun(runId: number): Promise<UndoCounts[]>;
  /** Records the rollback and marks each undone run `rolled_back`. Returns the rollback id. */
  recordRollback(rollback: NewRollback): Promise<number>;
}

/** A dedicated connection that holds the school's run lock. */
export interface RunSession {
  /** Inserts the run with status 'running' and commits it at once, so it is visible while it runs. */
  startRun(run: NewRun): Promise<number>;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: LoadTransaction) => Promise<T>): Promise<T>;
  /** Records a run that failed outside the transaction (it was rolled back). */
  recordFailure(
    runId: number,
    outcome: RunOutcome,
    files: readonly RunFileRecord[],
    rejects: readonly Reject[],
  ): Promise<void>;
  setArchivePath(runId: number, path: string): Promise<void>;
}

export interface RunFilter {
  readonly school?: string | null;
  readonly limit: number;
}

/**
 * A stored reject as the API shows it: where and why. The original line (personal data) is there
 * only when an admin asked for it (`listRejects(…, { originals: true })`).
 */
export interface RejectRecord {
  readonly file: string;
  readonly line: number;
  readonly key: string | null;
  readonly field: string | null;
  readonly code: string;
  readonly message: string;
  /** The start of the line as it was in the file (at most ETL_MAX_REJECT_LINE_BYTES); only when asked for. */
  readonly originalLine?: string | null;
  /** The line's full length in bytes; more than `originalLine` holds when it was cut. Only when asked for. */
  readonly originalBytes?: number | null;
}

export interface ListRejectsOptions {
  /** Include each reject's original line: only for an admin who asked (`runs --original`, `?original=1`). */
  readonly originals?: boolean;
}

/** One school's ledger in figures, for metrics: what every worker's runs add up to. */
/** What a run finished as, whatever happened to it later. */
export type FinishedAs = 'succeeded' | 'warning' | 'failed' | 'skipped';

export interface SchoolSummary {
  readonly school: string;
  /** Finished runs (not dry runs) by status; a rolled-back run counts as rolled_back. */
  readonly runs: Readonly<Partial<Record<RunStatus, number>>>;
  /**
   * Finished runs (not dry runs) by what they finished as: a run rolled back later still counts
   * as the succeeded or warning run it was, so these only ever grow.
   */
  readonly finished: Readonly<Partial<Record<FinishedAs, number>>>;
  /** Runs in progress now. */
  readonly running: number;
  /** Rows written by runs that published, rolled back since or not: only ever grows. */
  readonly rows: {
    readonly inserted: number;
    readonly updated: number;
    readonly deactivated: number;
    readonly reactivated: number;
  };
  /** Rows runs that published left as they were on purpose: rejected rows held, deactivations deferred. */
  readonly kept: { readonly held: number; readonly deferred: number };
  /**
   * How long finished runs took (not dry runs, rolled back or not): cumulative counts of runs at
   * or under each of DURATION_BUCKETS' seconds, how many were timed and their seconds in all.
   */
  readonly durations: { readonly buckets: readonly number[]; readonly count: number; readonly seconds: number };
  /** Rows rejected by finished runs. */
  readonly rejected: number;
  readonly rollbacks: number;
  /** The newest finished run (not a dry run). */
  readonly lastRun: RunRecord | null;
  /** When the newest run that still stands published (ISO), or null. */
  readonly lastPublishedAt: string | null;
}

/** What happened to a row in one run, as history names it. */
export type HistoryOp = 'inserted' | 'updated' | 'deactivated' | 'reactivated' | 'held';

/**
 * One published change to one row (or a night that held it), from the rollback window
 * (etl_changes), the compact history (etl_history) or the held rejects (etl_rejects). Values are
 * personal data: the store reads them, and the caller decides whether anyone sees them.
 */
export interface HistoryEntry {
  readonly school: string;
  /** Base CASES table, e.g. `ST`. */
  readonly table: string;
  /** The row's key as the ledger keeps it: composite parts joined by U+001F. */
  readonly key: string;
  readonly runId: number;
  /** When the run finished (published), ISO. */
  readonly runTime: string;
  readonly op: HistoryOp;
  /** An update or reactivation: each column it changed, `[from, to]` as text (null for null); else null. */
  readonly changes: Readonly<Record<string, readonly [string | null, string | null]>> | null;
  /** A held row: the file's rejects of it, field and code (never the value); else null. */
  readonly rejects: ReadonlyArray<{ readonly field: string | null; readonly code: string }> | null;
}

/** Rows per school and table as published runs left them (Store.tableRows). */
export interface TableRowCounts {
  /** The newest run counted: every run up to it had finished. */
  readonly through: number;
  readonly tables: ReadonlyArray<{
    readonly school: string;
    readonly table: string;
    readonly active: number;
    readonly inactive: number;
  }>;
}

/** A page of the ledger's runs for the console (Store.pageRuns): newest first, by school and status. */
export interface RunPageFilter {
  readonly school?: string | null;
  readonly status?: RunStatus | null;
  readonly limit: number;
  /** Runs skipped before the page, newest first. */
  readonly offset: number;
}

/** One page of a longer list, and how long the list is. */
export interface PageOf<T> {
  readonly items: T[];
  readonly total: number;
}

/** Rows a run read for one table (etl_run_files), for the console's per-table chart. */
export interface TableRowsPoint {
  readonly runId: number;
  readonly startedAt: string;
  /** Base CASES table, e.g. `ST`. */
  readonly table: string;
  readonly mode: LoadMode;
  readonly rows: number;
}

/** The console's reads (the dashboard's charts and paging); no personal data in any of them. */
export interface ConsoleQueries {
  /** A page of runs, newest first, with how many runs match the filter. */
  pageRuns(filter: RunPageFilter): Promise<PageOf<RunRecord>>;
  /** A page of a run's rejects in file and line order, with their number; never original lines. */
  pageRejects(runId: number, limit: number, offset: number): Promise<PageOf<RejectRecord>>;
  /** The school's finished runs (not dry runs, not skipped) that started at or after `since`, oldest first. */
  chartRuns(school: string, since: Date): Promise<RunRecord[]>;
  /** Rows read per table by the runs chartRuns gives (files without a file-level error), oldest first. */
  chartTableRows(school: string, since: Date): Promise<TableRowsPoint[]>;
}

export interface Store extends ConsoleQueries {
  readonly dialect: 'sqlite' | 'postgres';
  /** Where the data lives, without credentials. */
  readonly location: string;
  /** Applies pending ledger migrations; safe when several processes start at once. Returns their names. */
  migrate(): Promise<string[]>;
  /**
   * The ledger migrations not yet applied, by name, creating and changing nothing: null when the
   * database holds no ledger at all (nothing has run), [] when it is current.
   */
  pendingMigrations(): Promise<string[] | null>;
  /**
   * Runs `fn` as the only run of `school` across every process: a PostgreSQL advisory lock on a
   * dedicated connection, or SQLite's single writer. Waits up to `timeoutMs` for another run.
   */
  withRunSession<T>(school: string, timeoutMs: number, fn: (session: RunSession) => Promise<T>): Promise<T>;
  listRuns(filter: RunFilter): Promise<RunRecord[]>;
  getRun(id: number): Promise<RunRecord | null>;
  listRollbacks(filter: RunFilter): Promise<RollbackRecord[]>;
  /** A run's files as recorded, in file name order. */
  listRunFiles(runId: number): Promise<RunFileRecord[]>;
  /** A run's stored rejects in file and line order, at most `limit`; their original lines only when asked for. */
  listRejects(runId: number, limit: number, options?: ListRejectsOptions): Promise<RejectRecord[]>;
  /** Every school's ledger in figures, in school order. */
  schoolSummaries(): Promise<SchoolSummary[]>;
  /**
   * Mirror rows per school and table, from the ledger alone: what published runs (not rolled
   * back) with ids in (`after`, `through`] inserted, reactivated and deactivated, summed. With
   * `through` null, up to the newest run below every run still running, which `through` reports:
   * a caller adds later runs to what it has (see observability/metrics.ts).
   */
  tableRows(after: number, through: number | null): Promise<TableRowCounts>;
  /**
   * One row's history, oldest first: the published changes of the runs still in the rollback
   * window, the compact history of older ones, and the nights that held the row. `school` null:
   * the row of that key in every school. A lookup may read the window's changes of the school's
   * runs (etl_changes has no index by key, so that logging stays fast).
   */
  rowHistory(school: string | null, table: string, key: string): Promise<HistoryEntry[]>;
  /** The tables the school's runs (every school's, for null) read a file for, in name order. */
  historyTables(school: string | null): Promise<string[]>;
  /**
   * Makes room again in `tables` (mirror and ledger tables a night just wrote), outside any
   * transaction. PostgreSQL: VACUUM of those with more dead rows than autovacuum would allow,
   * ANALYZE of those whose statistics it would refresh (see postgres/vacuum.ts). SQLite reuses
   * freed pages by itself: nothing to do. Returns the tables vacuumed.
   */
  reclaim(tables: readonly string[]): Promise<string[]>;
  /**
   * Rebuilds `mirror`'s table under `mirror.key` (`cases-etl migrate --rekey`), every school's rows
   * kept, in one transaction with marking pruned every run whose change history names the table
   * (its images identify rows by the old key). Nothing changes when the key is already the table's.
   * Throws ETL_LAYOUT_REKEY_REFUSED when the table is missing, lacks a key column, or its rows hold
   * empty or repeated keys.
   */
  rekeyMirror(mirror: MirrorTable): Promise<RekeyResult>;
  close(): Promise<void>;
}
