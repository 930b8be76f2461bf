import { isTransientPostgresError } from './postgres/errors.js';
import { isTransientSqliteError } from './sqlite/errors.js';

/**
 * Whether a failure from either database is one that clears up by itself (each adapter names its
 * own in its errors.ts). Imports no driver, so the CLI can ask without loading one.
 */
export function isTransientStoreError(err: unknown): boolean {
  return isTransientPostgresError(err) || isTransientSqliteError(err);
}
