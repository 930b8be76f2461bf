/**
 * Which SQLite failures are worth retrying: the database file was busy or locked by another
 * writer, the disk was full or an I/O error passed. Any other SQLite error is a bug or bad data,
 * and retrying would only fail the same way again.
 */

/** better-sqlite3 result codes (and their extended forms, which start with these) that clear up on their own. */
const TRANSIENT_SQLITE = ['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR', 'SQLITE_FULL', 'SQLITE_CANTOPEN'] as const;

/** Whether `err` is a better-sqlite3 error a later attempt may not meet. */
export function isTransientSqliteError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TRANSIENT_SQLITE.some((c) => code.startsWith(c));
}
