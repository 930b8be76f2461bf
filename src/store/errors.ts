import { isRefusedPostgresError, isTransientPostgresError } from './postgres/errors.js';
import { isTransientSqliteError } from './sqlite/errors.js';

/**
 * What a failure from either database was, as each adapter's errors.ts names it: `transient`
 * (clears up by itself: retry), `refused` (the server answered but refused us: a person must
 * correct DATABASE_URL or the server), or null (not the database's doing as far as we know).
 * Imports no driver, so the CLI can ask without loading one.
 */
export function storeFailureKind(err: unknown): 'transient' | 'refused' | null {
  if (isTransientPostgresError(err) || isTransientSqliteError(err)) return 'transient';
  if (isRefusedPostgresError(err)) return 'refused';
  return null;
}
