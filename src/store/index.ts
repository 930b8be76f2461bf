import type { DatabaseConfig } from '../config/index.js';
import { createSqliteStore } from './sqlite/index.js';
import type { Store } from './types.js';

export {
  countsOf,
  zeroCounts,
  type ListRejectsOptions,
  type LoadTransaction,
  type MergeCounts,
  type MergeInput,
  type NewRollback,
  type NewRun,
  type RejectedKeys,
  type RejectRecord,
  type RollbackRecord,
  type RunFileRecord,
  type RunFilter,
  type RunOutcome,
  type RunRecord,
  type RunSession,
  type RunStatus,
  type RunSummary,
  type RunTrigger,
  type SchoolSummary,
  type StagedRow,
  type Store,
  type UndoCounts,
} from './types.js';
export { storeFailureKind } from './errors.js';

/**
 * Opens the configured database: SQLite (the embedded default) or PostgreSQL. The PostgreSQL
 * adapter is imported only when asked for, so the embedded path never loads the pg driver.
 */
export async function createStore(database: DatabaseConfig, options: { lockTimeoutMs: number }): Promise<Store> {
  if (database.kind === 'sqlite') return createSqliteStore(database.path, { busyTimeoutMs: options.lockTimeoutMs });
  const { createPostgresStore } = await import('./postgres/index.js');
  return createPostgresStore(database.url, database.schema, { connectTimeoutMs: database.connectTimeoutMs });
}
