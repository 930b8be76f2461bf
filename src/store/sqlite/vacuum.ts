/**
 * Making room again after a night, on SQLite: nothing to do. SQLite has no dead row versions;
 * the pages a night frees (pruned change history, rows rewritten) go to the file's free list
 * and the next night's writes reuse them, so a year of nights keeps the file the size of its
 * data without VACUUM (which would rewrite the whole file under an exclusive lock). The
 * PostgreSQL adapter's vacuum.ts does the work there.
 */
export function reclaimSqlite(): string[] {
  return [];
}
