import { loadEnvironmentConfig, type Config, type ConfigOverrides } from '../config/index.js';
import { EtlError, type Notice } from '../errors/index.js';
import { discoverSource } from '../extract/index.js';
import { loadLayouts, type LayoutRegistry } from '../layouts/index.js';
import { viewsFor } from '../schema/index.js';
import { notifierFor, notifyRuns, type Notifier, type SchoolDelivery } from '../notify/index.js';
import { createStore, zeroCounts, type RunTrigger, type Store } from '../store/index.js';
import { withRetry } from '../util/index.js';
import { runSchool, type ProgressEvent, type SchoolRunResult } from './run-school.js';
import type { RunStats } from './run-summary.js';

export interface RunEtlOptions {
  /** Export folder; default CASES_DIRECTORY. */
  readonly source?: string;
  /** Only this school (and the school id of fixed-width files). */
  readonly school?: string;
  readonly dryRun?: boolean;
  /** Load the file set even when it equals the school's latest published one. */
  readonly force?: boolean;
  /**
   * Read every line of every file: none is taken as unchanged without being read, not a file as
   * its table was last loaded from, nor a line a stored row was read from. Each row is then
   * matched by key with the stored one, so rows deleted or deactivated behind the pipeline's back
   * come back (a stored value edited by hand is not seen: rows are compared by their row hash).
   * Implies `force` (recorded).
   */
  readonly reread?: boolean;
  /** Override every guard rail for this run (recorded). */
  readonly overrideGuards?: boolean;
  /** Override the shrink and empty-file guards for this run (recorded). */
  readonly allowShrink?: boolean;
  readonly trigger?: RunTrigger;
  readonly jobId?: string | null;
  readonly onProgress?: (event: ProgressEvent) => void;
  /** Ready-made pieces, for callers that hold them already (jobs, HTTP); else built from the environment. */
  readonly config?: Config;
  readonly store?: Store;
  readonly layouts?: LayoutRegistry;
  /** Who to tell about each school's outcome; default the channels the configuration names, null for nobody. */
  readonly notifier?: Notifier | null;
}

/** The seed's result shape, for one or several schools. */
export interface EtlResult {
  /** The run id (the first school's, when the folder holds several). */
  readonly runId: number | null;
  /** The worst status over the schools. */
  readonly status: SchoolRunResult['status'];
  readonly success: boolean;
  readonly stats: RunStats;
  readonly errors: readonly string[];
  readonly runs: readonly SchoolRunResult[];
  /** Findings about the folder: unknown files, stale deltas, files still being written. */
  readonly notices: readonly Notice[];
  /** Each notification sent, per school and channel; a failed one did not change the outcome. */
  readonly notifications: readonly SchoolDelivery[];
}

/**
 * What a result says of its runs, without the deliveries: what `run` prints, and what a worker's
 * job reports for `trigger --wait` to print the same. Ids, counts, codes and file names only.
 */
export type RunReport = Pick<EtlResult, 'runId' | 'status' | 'stats' | 'errors' | 'runs' | 'notices'>;

const SEVERITY: Record<SchoolRunResult['status'], number> = { skipped: 0, succeeded: 1, warning: 2, failed: 3 };

function total(runs: readonly SchoolRunResult[]): RunStats {
  const t: RunStats = { ...zeroCounts(), files: 0, records: 0, rows: 0, rejected: 0, errorRate: 0, durationMs: 0 };
  const keys = [
    'files',
    'records',
    'rows',
    'rejected',
    'durationMs',
    'inserted',
    'updated',
    'deactivated',
    'reactivated',
    'unchanged',
    'held',
    'deferred',
  ] as const;
  for (const r of runs) for (const k of keys) t[k] += r.stats[k];
  t.errorRate = t.records === 0 ? 0 : t.rejected / t.records;
  return t;
}

/**
 * Runs the ETL now: discovers the export folder and loads each school's file set in its own
 * all-or-nothing run. Resolves with the outcome (bad data and tripped guards are outcomes, not
 * exceptions); rejects only on infrastructure failure or bad configuration.
 */
export async function runEtl(options: RunEtlOptions = {}): Promise<EtlResult> {
  const overrides: ConfigOverrides = { sourceDirectory: options.source, schoolId: options.school };
  const config = options.config ?? loadEnvironmentConfig(overrides);
  const source = options.source ?? config.sourceDirectory;
  if (!source)
    throw new EtlError('ETL_CONFIG_INVALID', 'no source folder: set CASES_DIRECTORY or pass --source DIR', {
      problems: ['CASES_DIRECTORY is not set'],
    });
  const layouts =
    options.layouts ?? (await loadLayouts(config.relationshipsPath, { optional: !config.relationshipsExplicit }));
  const ownStore = options.store === undefined;
  const store = options.store ?? (await createStore(config.database, { lockTimeoutMs: config.lockTimeoutMs }));
  try {
    if (ownStore) await store.migrate();
    const discovery = await withRetry(
      () =>
        discoverSource(source, layouts, {
          schoolId: options.school ?? config.schoolId,
          onlySchool: options.school ?? null,
          requiredTables: config.requiredTables,
          stableMs: config.fileStableMs,
          stableTimeoutMs: config.fileStableTimeoutMs,
          ignorePaths: [config.relationshipsPath],
        }),
      { ...config.retry, isRetryable: (err) => err instanceof EtlError && err.code === 'ETL_SOURCE_NOT_FOUND' },
    );
    const runs: SchoolRunResult[] = [];
    // A folder with nothing in it is still a night to record when we know whose it was.
    const school = options.school ?? config.schoolId;
    const sets =
      discovery.fileSets.length === 0 && school
        ? [{ school, files: [], missingRequired: [...config.requiredTables], conflicts: [] }]
        : discovery.fileSets;
    for (const set of sets) {
      runs.push(
        // A set read with the seed's built-in .DAT layouts gets their views too (student, staff, …).
        await runSchool(
          config,
          store,
          set,
          viewsFor(
            layouts,
            set.files.map((f) => f.layout),
            config.viewNaming,
          ),
          {
            trigger: options.trigger ?? 'library',
            jobId: options.jobId ?? null,
            dryRun: options.dryRun ?? false,
            force: options.force === true || options.reread === true,
            reread: options.reread ?? false,
            overrideGuards: options.overrideGuards ?? false,
            allowShrink: options.allowShrink ?? false,
            ...(options.onProgress ? { onProgress: options.onProgress } : {}),
          },
        ),
      );
    }
    const status = runs.reduce<SchoolRunResult['status']>(
      (worst, r) => (SEVERITY[r.status] > SEVERITY[worst] ? r.status : worst),
      runs.length === 0 ? 'failed' : 'skipped',
    );
    const errors =
      runs.length === 0
        ? [`no CASES21 files found in ${source}`]
        : runs.flatMap((r) => r.errors.map((e) => (runs.length > 1 ? `school ${r.school}: ${e}` : e)));
    const notifier = options.notifier === undefined ? notifierFor(config) : options.notifier;
    const notifications = notifier
      ? await notifyRuns(notifier, runs, options.trigger ?? 'library', config.http.publicUrl)
      : [];
    return {
      runId: runs[0]?.runId ?? null,
      status,
      success: runs.length > 0 && runs.every((r) => r.success),
      stats: total(runs),
      errors,
      runs,
      notices: discovery.notices,
      notifications,
    };
  } finally {
    if (ownStore) await store.close();
  }
}
