import type { Database, Statement } from 'better-sqlite3';

import { BOOKKEEPING, mirrorTableName, SCHOOL_COLUMN } from '../../schema/index.js';
import type { UndoCounts } from '../types.js';
import { LEDGER } from './ledger.js';
import { q } from './sql.js';

/**
 * Undoing a run on SQLite: its changes are replayed backwards, newest first, a page at a time.
 * An insert is undone by deleting the row; a deactivation by writing back the bookkeeping it
 * changed; any other change by writing its before image back (every column, bookkeeping
 * included; a column missing from the image was null). Going
 * backwards means a row the run changed twice ends with its first before image.
 */

type Image = Record<string, unknown>;

const PAGE = 2000;

/** The bookkeeping a deactivation changes, and all its image holds beside the row's address. */
const FLAGS = [BOOKKEEPING.active, BOOKKEEPING.changedRun, BOOKKEEPING.deactivatedRun];

interface TableStatements {
  remove: Statement;
  restore: Statement;
  /** A deactivation's undo: its image holds the row's address and the bookkeeping it changed. */
  restoreFlags: Statement;
  columns: readonly string[];
  key: readonly string[];
}

/** Key columns of a mirror table, from its primary key (after school_id). */
function keyColumns(db: Database, table: string): string[] {
  const info = db.prepare(`SELECT name, pk FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk`).all(table) as Array<{
    name: string;
    pk: number;
  }>;
  return info.map((c) => c.name).filter((c) => c !== SCHOOL_COLUMN);
}

function statementsFor(db: Database, cache: Map<string, TableStatements>, table: string): TableStatements {
  const hit = cache.get(table);
  if (hit) return hit;
  const name = mirrorTableName(table);
  const key = keyColumns(db, name);
  const columns = (db.prepare(`SELECT name FROM pragma_table_info(?)`).all(name) as Array<{ name: string }>)
    .map((c) => c.name)
    .filter((c) => c !== SCHOOL_COLUMN && !key.includes(c));
  const where = [SCHOOL_COLUMN, ...key].map((c) => `${q(c)} = ?`).join(' AND ');
  const made: TableStatements = {
    remove: db.prepare(`DELETE FROM ${q(name)} WHERE ${where}`),
    restore: db.prepare(`UPDATE ${q(name)} SET ${columns.map((c) => `${q(c)} = ?`).join(', ')} WHERE ${where}`),
    restoreFlags: db.prepare(`UPDATE ${q(name)} SET ${FLAGS.map((c) => `${q(c)} = ?`).join(', ')} WHERE ${where}`),
    columns,
    key,
  };
  cache.set(table, made);
  return made;
}

export function planUndoSqlite(db: Database, runId: number): UndoCounts[] {
  return (
    db.prepare(LEDGER.planUndo).all(runId) as Array<{ table_name: string; deleted: number; restored: number }>
  ).map((r) => ({
    table: r.table_name,
    deleted: Number(r.deleted),
    restored: Number(r.restored),
  }));
}

/**
 * Undoes `runId` and returns, per table, the rows its statements really changed (not what the
 * change log says): each row once, a restored row that an earlier change of the run then deleted
 * counted as deleted.
 */
export function undoRunSqlite(db: Database, runId: number): UndoCounts[] {
  const tables = planUndoSqlite(db, runId).map((c) => c.table);
  const touched = new Map<string, { deleted: Set<string>; restored: Set<string> }>(
    tables.map((t) => [t, { deleted: new Set(), restored: new Set() }]),
  );
  const counted = (table: string): { deleted: Set<string>; restored: Set<string> } => {
    let t = touched.get(table);
    if (!t) touched.set(table, (t = { deleted: new Set(), restored: new Set() }));
    return t;
  };
  const counts = (): UndoCounts[] =>
    [...touched].map(([table, t]) => ({
      table,
      deleted: t.deleted.size,
      restored: [...t.restored].filter((k) => !t.deleted.has(k)).length,
    }));
  const cache = new Map<string, TableStatements>();
  const page = db.prepare(LEDGER.changesPage);
  let below = Number.MAX_SAFE_INTEGER;
  for (;;) {
    const changes = page.all(runId, below, PAGE) as Array<{
      id: number;
      table_name: string;
      op: string;
      before: string | null;
      after: string | null;
    }>;
    for (const c of changes) {
      const s = statementsFor(db, cache, c.table_name);
      if (c.op === 'insert') {
        const after = JSON.parse(c.after ?? '{}') as Image;
        const key = [after[SCHOOL_COLUMN], ...s.key.map((k) => after[k] ?? null)];
        if (s.remove.run(...key).changes > 0) counted(c.table_name).deleted.add(JSON.stringify(key));
      } else {
        const before = JSON.parse(c.before ?? '{}') as Image;
        const key = [before[SCHOOL_COLUMN], ...s.key.map((k) => before[k] ?? null)];
        // Older logs hold a deactivation's whole row: its values never changed, so its flags suffice too.
        const restored =
          c.op === 'deactivate'
            ? s.restoreFlags.run(...FLAGS.map((col) => before[col] ?? null), ...key)
            : s.restore.run(...s.columns.map((col) => before[col] ?? null), ...key);
        if (restored.changes > 0) counted(c.table_name).restored.add(JSON.stringify(key));
      }
    }
    if (changes.length < PAGE) return counts();
    below = (changes[changes.length - 1] as { id: number }).id;
  }
}
