import type { Config } from '../config/index.js';
import { EtlError, type ErrorCode, type Notice, type Reject } from '../errors/index.js';
import {
  discoverSource,
  type Discovery,
  type FileConflict,
  type LineLimits,
  type SourceFile,
} from '../extract/index.js';
import type { LayoutRegistry, LoadMode } from '../layouts/index.js';
import { createValidatedFileReader } from '../validate/index.js';
import { unreadableMessage } from './load-file.js';

/**
 * `validate`: read a night's export and say exactly what is in it and what is wrong with it,
 * writing nothing.
 */

export interface FileReport {
  readonly file: string;
  readonly table: string;
  readonly tableId: string;
  readonly mode: LoadMode;
  readonly format: 'csv' | 'fixed';
  readonly layout: string;
  readonly bytes: number;
  /** Records read (rows plus rejected records). */
  readonly records: number;
  /** Rows that passed every rule. */
  readonly rows: number;
  readonly rejectedRows: number;
  /** Rejected rows whose key could be read: a run holds their stored rows as they are. */
  readonly held: number;
  /** Rejected rows whose key could not be read: a run defers a full file's deactivations for them. */
  readonly keyless: number;
  /** Reject count per code (a row can fail several rules). */
  readonly rejectsByCode: Readonly<Partial<Record<ErrorCode, number>>>;
  /** The first few rejects, in file order. */
  readonly examples: readonly Reject[];
  readonly notices: readonly Notice[];
  /** Set when the file could not be read as a table at all. */
  readonly error: { readonly code: ErrorCode; readonly message: string } | null;
}

export interface SchoolReport {
  readonly school: string;
  readonly files: readonly FileReport[];
  readonly missingRequired: readonly string[];
  /** Tables sent twice tonight; their files were not read, and a run would fail. */
  readonly conflicts: readonly FileConflict[];
}

export interface SourceReport {
  readonly directory: string;
  readonly schools: readonly SchoolReport[];
  readonly unknown: readonly string[];
  readonly unstable: readonly string[];
  readonly notices: readonly Notice[];
  readonly totals: {
    readonly files: number;
    readonly records: number;
    readonly rows: number;
    readonly rejectedRows: number;
    readonly unreadable: number;
  };
  /** 0: every file was readable; 1: a required file is missing, a file is unreadable, or a table has two files. */
  readonly exitCode: 0 | 1;
}

/** How many rejects per file a report keeps as examples. */
export const DEFAULT_EXAMPLES = 5;

/** Reads one file to the end, counting rows and rejects; `lines` are ETL_MAX_LINE_BYTES and ETL_MAX_REJECT_LINE_BYTES (defaults when absent). */
export async function inspectFile(
  file: SourceFile,
  examples = DEFAULT_EXAMPLES,
  onReject?: (r: Reject) => void,
  lines?: LineLimits,
): Promise<FileReport> {
  const reader = createValidatedFileReader(file, lines === undefined ? {} : { lines });
  const rejectsByCode: Partial<Record<ErrorCode, number>> = {};
  const kept: Reject[] = [];
  let records = 0;
  let rows = 0;
  let held = 0;
  let keyless = 0;
  let error: FileReport['error'] = null;
  try {
    for await (const batch of reader.batches()) {
      records += batch.records;
      rows += batch.rows.length;
      held += batch.held.length;
      keyless += batch.keyless;
      for (const r of batch.rejects) {
        rejectsByCode[r.code] = (rejectsByCode[r.code] ?? 0) + 1;
        if (kept.length < examples) kept.push(r);
        onReject?.(r);
      }
    }
  } catch (cause) {
    error = { code: 'ETL_SOURCE_UNREADABLE', message: unreadableMessage(file.path, cause) };
  }
  error ??= reader.failure;
  return {
    file: file.name,
    table: file.table,
    tableId: file.tableId,
    mode: file.mode,
    format: file.layout.format,
    layout: file.layout.originDetail,
    bytes: file.bytes,
    records,
    rows,
    rejectedRows: records - rows,
    held,
    keyless,
    rejectsByCode,
    examples: kept,
    notices: reader.notices,
    error,
  };
}

export interface InspectOptions {
  /** Only this school's files. */
  readonly school?: string | null;
  readonly examples?: number;
  /** Called before each file is read, for progress lines. */
  readonly onFile?: (file: SourceFile) => void;
}

/** Discovers and reads every file under the configured source folder. */
export async function inspectSource(
  config: Config,
  registry: LayoutRegistry,
  options: InspectOptions = {},
): Promise<SourceReport> {
  if (config.sourceDirectory === null) {
    throw new EtlError('ETL_CONFIG_INVALID', 'no source folder: set CASES_DIRECTORY or pass --source DIR', {
      problems: ['CASES_DIRECTORY is not set'],
    });
  }
  const discovery: Discovery = await discoverSource(config.sourceDirectory, registry, {
    schoolId: config.schoolId,
    onlySchool: options.school ?? null,
    requiredTables: config.requiredTables,
    stableMs: config.fileStableMs,
    stableTimeoutMs: config.fileStableTimeoutMs,
    ignorePaths: [config.relationshipsPath],
  });
  const schools: SchoolReport[] = [];
  let exitCode: 0 | 1 = 0;
  for (const set of discovery.fileSets) {
    const files: FileReport[] = [];
    for (const file of set.files) {
      options.onFile?.(file);
      const report = await inspectFile(file, options.examples, undefined, config.lines);
      files.push(report);
      // Any known table's unreadable (or empty) file fails a run's night, required or not.
      if (report.error) exitCode = 1;
    }
    if (set.missingRequired.length > 0 || set.conflicts.length > 0) exitCode = 1;
    schools.push({ school: set.school, files, missingRequired: set.missingRequired, conflicts: set.conflicts });
  }
  const all = schools.flatMap((s) => s.files);
  const notices = [...discovery.notices];
  if (discovery.fileSets.length === 0) {
    // Nothing to load is never a good night: the export did not run or wrote somewhere else.
    notices.push({
      severity: 'error',
      code: 'ETL_SOURCE_REQUIRED_MISSING',
      file: null,
      message: `no CASES21 files found in ${discovery.directory}`,
    });
    exitCode = 1;
  }
  return {
    directory: discovery.directory,
    schools,
    unknown: discovery.unknown,
    unstable: discovery.unstable,
    notices,
    totals: {
      files: all.length,
      records: all.reduce((n, f) => n + f.records, 0),
      rows: all.reduce((n, f) => n + f.rows, 0),
      rejectedRows: all.reduce((n, f) => n + f.rejectedRows, 0),
      unreadable: all.filter((f) => f.error !== null).length,
    },
    exitCode,
  };
}
