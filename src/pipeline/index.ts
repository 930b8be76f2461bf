export {
  inspectFile,
  inspectSource,
  DEFAULT_EXAMPLES,
  type FileReport,
  type InspectOptions,
  type SchoolReport,
  type SourceReport,
} from './inspect.js';
export { runEtl, type EtlResult, type RunEtlOptions, type RunReport } from './run.js';
export { runSchool, type ProgressEvent, type SchoolRunOptions, type SchoolRunResult } from './run-school.js';
export type { RunStats, TableSummary } from './run-summary.js';
export { loadFile, type FileLoadResult } from './load-file.js';
export { rollbackRun, type RollbackOptions, type RollbackResult } from './rollback.js';
export { failAbandonedRuns, type AbandonedRuns } from './abandoned.js';
export {
  ledgerKey,
  readRowHistory,
  resolveHistoryTable,
  type HistoryItem,
  type HistoryQuery,
  type RowHistory,
} from './history.js';
