/**
 * cases-etl as a library. The CLI is a thin layer over these.
 */
export { loadConfig, loadEnvironmentConfig, VARIABLES, type Config, type ConfigOverrides } from './config/index.js';
export { EtlError, ERROR_CATALOGUE, isEtlError, type ErrorCode, type Notice, type Reject } from './errors/index.js';
export { discoverSource, type Discovery, type FileSet, type SourceFile } from './extract/index.js';
export {
  createLayoutRegistry,
  fileNameForTable,
  loadBuiltinLayouts,
  loadLayouts,
  readRelationshipsJson,
  tableForFile,
  type ColumnLayout,
  type LayoutRegistry,
  type TableLayout,
} from './layouts/index.js';
export {
  inspectFile,
  inspectSource,
  rollbackRun,
  runEtl,
  type EtlResult,
  type FileReport,
  type RollbackOptions,
  type RollbackResult,
  type RunEtlOptions,
  type RunStats,
  type SchoolReport,
  type SchoolRunResult,
  type SourceReport,
} from './pipeline/index.js';
export { createStore, type RunRecord, type RunStatus, type Store } from './store/index.js';
export { createValidatedFileReader, type TypedRow, type ValidatedBatch } from './validate/index.js';
export { generateSchool, writeStudentsFile, type GenerateOptions, type GeneratedFile } from './generate/index.js';
export {
  createApp,
  scheduleNightlyEtl,
  startServe,
  startWorker,
  triggerEtl,
  type App,
  type ServeHandle,
  type WorkerHandle,
  type TriggerOptions,
  type TriggerOutcome,
} from './app/index.js';
export { nextRunTimes } from './jobs/index.js';
export { buildServer } from './http/index.js';
export {
  createNotifier,
  notifierFor,
  runNotification,
  testNotification,
  type Delivery,
  type Notification,
  type Notifier,
} from './notify/index.js';
export { createMetrics, type Metrics } from './observability/metrics.js';
export { VERSION } from './version.js';
