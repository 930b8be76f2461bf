import type { Database } from 'better-sqlite3';

import { viewMirrors, viewOver, type ViewDef } from '../../schema/index.js';
import { createViewSql, type ViewDialect } from '../view-sql.js';
import { CATALOGUE, CREATE_CATALOGUE, CREATE_DESCRIPTIONS, describeSqliteView } from './comments.js';
import { q } from './sql.js';

/** The friendly views on SQLite, and the column catalogue that stands in for comments (comments.ts). */

const lit = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/** SQLite's side of the views: dates are ISO text, so the date is its first ten characters; booleans are 1 and 0. */
export const SQLITE_VIEWS: ViewDialect = {
  q,
  lit,
  date: (e) => `substr(${e}, 1, 10)`,
  boolean: (e) => `CASE ${e} WHEN 'Y' THEN 1 WHEN 'N' THEN 0 END`,
  text: (e) => `CAST(${e} AS TEXT)`,
};

/** The columns of each mirror a view reads, read once each. */
function mirrorColumns(db: Database, views: readonly ViewDef[]): Map<string, Set<string>> {
  const info = db.prepare(`SELECT name FROM pragma_table_info(?)`).pluck();
  const out = new Map<string, Set<string>>();
  for (const mirror of new Set(views.flatMap(viewMirrors))) {
    const names = info.all(mirror) as string[];
    if (names.length > 0) out.set(mirror, new Set(names));
  }
  return out;
}

/**
 * Makes every view whose base table exists as its definition says, over what the database has
 * (see viewOver), and the column catalogue. A view already as it should be is left alone: any
 * change to the schema makes SQLite read the whole schema again at the next statement, which
 * cost a re-run more than its rows.
 */
export function ensureSqliteViews(db: Database, views: readonly ViewDef[]): void {
  db.exec(CREATE_DESCRIPTIONS);
  const stored = db.prepare(`SELECT sql FROM sqlite_master WHERE type = 'view' AND name = ?`).pluck();
  const columns = mirrorColumns(db, views);
  for (const wanted of views) {
    const view = viewOver(wanted, (m) => columns.get(m));
    if (view === null) continue;
    const create = createViewSql(view, SQLITE_VIEWS);
    if (stored.get(view.name) === create) continue;
    db.exec(`DROP VIEW IF EXISTS ${q(view.name)}`);
    db.exec(create);
    describeSqliteView(db, view);
  }
  if (stored.get(CATALOGUE) !== CREATE_CATALOGUE) {
    db.exec(`DROP VIEW IF EXISTS ${CATALOGUE}`);
    db.exec(CREATE_CATALOGUE);
  }
}
