/**
 * What a name from a file may be once it becomes an SQL identifier. Quoting keeps names from
 * being SQL, but not from meaning something: a CSV header `SCHOOL_ID` is the mirror's own
 * school column, `_HASH` is bookkeeping, and PostgreSQL cuts every identifier to 63 bytes, so
 * two long names that differ only after that are one column. These rules are checked where the
 * names come in (a CSV header, relationships.json), before anything reaches the database.
 */

/** PostgreSQL's identifier limit (NAMEDATALEN - 1), in bytes of UTF-8. SQLite has none; one rule serves both. */
export const MAX_NAME_BYTES = 63;

/** The mirror's school column: every mirror table has it, so no CASES column may be called it. */
export const RESERVED_SCHOOL_COLUMN = 'school_id';

/**
 * Bookkeeping columns (`_active`, `_hash`, …) all start with `_`; CASES column names never do, so
 * the whole prefix is kept for bookkeeping, including columns not yet invented.
 */
export const BOOKKEEPING_PREFIX = '_';

/**
 * Relation-name prefixes a view may not take: `cases_` is the mirror tables' namespace, `etl_`
 * the run ledger's (tables, their indexes and sequences, which share the namespace in
 * PostgreSQL), `sqlite_` SQLite's own, `pg_` PostgreSQL's.
 */
export const RESERVED_VIEW_PREFIXES = ['cases_', 'etl_', 'sqlite_', 'pg_'] as const;

const CONTROL = /\p{Cc}/u;

/** Why `name` cannot be an SQL name at all (empty, control characters, too long), or null. */
export function sqlNameProblem(name: string): string | null {
  if (name.trim() === '') return 'is empty';
  if (CONTROL.test(name)) return 'contains a control character';
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_NAME_BYTES)
    return `is ${bytes} bytes long; names may be at most ${MAX_NAME_BYTES} bytes (PostgreSQL's limit)`;
  return null;
}

/** Whether a column name (any case) is the school column or in the bookkeeping namespace. */
export function isReservedColumnName(name: string): boolean {
  const lower = name.trim().toLowerCase();
  return lower === RESERVED_SCHOOL_COLUMN || lower.startsWith(BOOKKEEPING_PREFIX);
}

/** The reason a reserved column name is refused, for messages. */
export const RESERVED_COLUMN_REASON = `${RESERVED_SCHOOL_COLUMN} and names starting with ${BOOKKEEPING_PREFIX} are the loader's own columns`;

/** The reserved prefix a view name (any case) starts with, or null. */
export function reservedViewPrefix(name: string): string | null {
  const lower = name.toLowerCase();
  return RESERVED_VIEW_PREFIXES.find((p) => lower.startsWith(p)) ?? null;
}

/**
 * A name from a file as it may be printed: control characters shown as `?`, cut to 64
 * characters. Header names are not personal data, but a broken header can hold anything.
 */
export function printableName(name: string, max = 64): string {
  const clean = name.replace(/\p{Cc}/gu, '?');
  return clean.length <= max ? clean : `${clean.slice(0, max)}…`;
}

/** The view name of a user layout without `view`: its file name without extension, in lower case. */
export function defaultViewName(fileName: string | null, table: string): string {
  const stem = (fileName ?? table)
    .replace(/\.[^.]*$/, '')
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_');
  return /^[a-z_]/.test(stem) ? stem : `v_${stem}`;
}
