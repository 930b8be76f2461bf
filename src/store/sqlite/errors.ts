import { dirname } from 'node:path';

import { EtlError } from '../../errors/index.js';

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

/** Node errno codes when the database's folder cannot be made or its file opened. */
const FOLDER_WORDS: Readonly<Record<string, string>> = {
  EEXIST: 'a file is in the way of its folder',
  ENOTDIR: 'a file is in the way of its folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
  ENOENT: 'its folder cannot be made there',
};

/**
 * A failure to open the SQLite database at `path` (its folder, its file, or its header) as
 * ETL_DB_UNAVAILABLE: where and why in words. Retried only when it may clear up by itself (the
 * file busy or locked); a file that is not a database, or a folder that cannot be made, is not.
 */
export function cannotOpen(err: unknown, path: string): EtlError {
  const code = (err as { code?: unknown } | null)?.code;
  const text = err instanceof Error ? err.message : String(err);
  let why: string;
  if (code === 'SQLITE_NOTADB') why = 'the file is not an SQLite database';
  else if (typeof code === 'string' && code in FOLDER_WORDS) why = `${FOLDER_WORDS[code]} (${dirname(path)})`;
  else if (code === 'SQLITE_CANTOPEN') why = 'the file cannot be opened';
  else why = text;
  return new EtlError('ETL_DB_UNAVAILABLE', `cannot open sqlite:${path}: ${why}`, {
    cause: err,
    retry: isTransientSqliteError(err) && code !== 'SQLITE_CANTOPEN',
  });
}
