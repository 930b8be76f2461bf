import { existsSync } from 'node:fs';

import type { DatabaseConfig } from '../config/index.js';
import { EtlError } from '../errors/index.js';
import { createSqliteStore } from './sqlite/index.js';
import type { Store } from './types.js';

export {
  countsOf,
  type ConsoleQueries,
  type FinishedAs,
  zeroCounts,
  type ListRejectsOptions,
  type HistoryEntry,
  type HistoryOp,
  type KeptView,
  type LoadTransaction,
  type MergeCounts,
  type MergeInput,
  type NewRollback,
  type NewRun,
  type PageOf,
  type RejectedKeys,
  type RejectRecord,
  type RollbackRecord,
  type RunFileRecord,
  type RunFilter,
  type RunOutcome,
  type RunPageFilter,
  type RunRecord,
  type RunSession,
  type RunStatus,
  type RunSummary,
  type RunTrigger,
  type SchoolSummary,
  type StagedRow,
  type Store,
  type TableRowCounts,
  type TableRowsPoint,
  type UndoCounts,
} from './types.js';
export { storeFailureKind } from './errors.js';
export { DURATION_BUCKETS } from './common.js';

/**
 * Opens the configured database: SQLite (the embedded default) or PostgreSQL. The PostgreSQL
 * adapter is imported only when asked for, so the embedded path never loads the pg driver.
 */
export async function createStore(database: DatabaseConfig, options: { lockTimeoutMs: number }): Promise<Store> {
  if (database.kind === 'sqlite') return createSqliteStore(database.path, { busyTimeoutMs: options.lockTimeoutMs });
  const { createPostgresStore } = await import('./postgres/index.js');
  return createPostgresStore(database.url, database.schema, { connectTimeoutMs: database.connectTimeoutMs });
}

/** What a read-only command finds: the store, or where no ledger is yet. */
export type LedgerForReading = { readonly store: Store } | { readonly absent: string };

/**
 * Opens the configured database for a command that only reads (`runs`): creates no directory,
 * database file, schema or table, and applies no migration. `absent` names the database when it
 * holds no ledger (an SQLite file that is not there, or a schema without one); an older ledger is
 * ETL_LEDGER_OUTDATED, naming what `cases-etl migrate` would apply.
 */
export async function openLedgerForReading(
  database: DatabaseConfig,
  options: { lockTimeoutMs: number },
): Promise<LedgerForReading> {
  if (database.kind === 'sqlite' && (database.path === ':memory:' || !existsSync(database.path)))
    return { absent: `sqlite:${database.path}` };
  const store =
    database.kind === 'sqlite'
      ? createSqliteStore(database.path, { busyTimeoutMs: options.lockTimeoutMs, existing: true })
      : await createStore(database, options);
  try {
    const pending = await store.pendingMigrations();
    if (pending === null) {
      await store.close();
      return { absent: store.location };
    }
    if (pending.length > 0)
      throw new EtlError(
        'ETL_LEDGER_OUTDATED',
        `the ledger in ${store.location} lacks ${pending.length} migration(s) this version needs (${pending.join(', ')}); \`cases-etl migrate\` applies them`,
      );
    return { store };
  } catch (err) {
    await store.close();
    throw err;
  }
}
