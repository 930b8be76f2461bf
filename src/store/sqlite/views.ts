import type { Database } from 'better-sqlite3';

import {
  mirrorDescription,
  OWN_COLUMN_DESCRIPTIONS,
  viewMirrors,
  viewOver,
  type MirrorColumn,
  type MirrorTable,
  type ViewDef,
} from '../../schema/index.js';
import { createViewSql, type ViewDialect } from '../view-sql.js';
import { q } from './sql.js';

/**
 * The friendly views on SQLite, and the column catalogue that stands in for PostgreSQL's
 * comments: SQLite has no COMMENT, so what each mirror and view column means is kept in a small
 * table, `cases_etl_descriptions`, written when a table or view is made or changed, and the view
 * `cases_etl_columns` lists every column of those relations with its type and description.
 */

const lit = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/** SQLite's side of the views: dates are ISO text, so the date is its first ten characters; booleans are 1 and 0. */
export const SQLITE_VIEWS: ViewDialect = {
  q,
  lit,
  date: (e) => `substr(${e}, 1, 10)`,
  boolean: (e) => `CASE ${e} WHEN 'Y' THEN 1 WHEN 'N' THEN 0 END`,
  text: (e) => `CAST(${e} AS TEXT)`,
};

/** What each described relation's columns mean; column '' holds the relation's own description. */
export const DESCRIPTIONS = 'cases_etl_descriptions';
export const CATALOGUE = 'cases_etl_columns';

const CREATE_DESCRIPTIONS = `CREATE TABLE IF NOT EXISTS ${DESCRIPTIONS} (
  relation TEXT NOT NULL,
  column_name TEXT NOT NULL,
  type TEXT,
  description TEXT,
  PRIMARY KEY (relation, column_name)
)`;

/** Every column of every relation described, in column order; a view column's type as the view gives it. */
const CREATE_CATALOGUE = `CREATE VIEW ${CATALOGUE} AS
SELECT m.name AS table_name, p.name AS column_name, coalesce(d.type, lower(p.type)) AS type, d.description AS description
FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS p
LEFT JOIN ${DESCRIPTIONS} AS d ON d.relation = m.name AND d.column_name = p.name
WHERE m.type IN ('table', 'view') AND m.name IN (SELECT relation FROM ${DESCRIPTIONS})
ORDER BY m.name, p.cid`;

type Row = readonly [column: string, type: string | null, description: string | null];

function writeDescriptions(db: Database, relation: string, rows: readonly Row[]): void {
  db.prepare(`DELETE FROM ${DESCRIPTIONS} WHERE relation = ?`).run(relation);
  const insert = db.prepare(
    `INSERT INTO ${DESCRIPTIONS} (relation, column_name, type, description) VALUES (?, ?, ?, ?)`,
  );
  for (const [column, type, description] of rows) insert.run(relation, column, type, description);
}

/**
 * Describes a mirror table and its columns when it was just made or widened, or has never been
 * described (a table made before descriptions were kept). The table's type column stays null:
 * the catalogue shows the declared SQLite type.
 */
export function describeSqliteMirror(db: Database, mirror: MirrorTable, changed: boolean): void {
  db.exec(CREATE_DESCRIPTIONS);
  if (!changed && db.prepare(`SELECT 1 FROM ${DESCRIPTIONS} WHERE relation = ? LIMIT 1`).get(mirror.name)) return;
  const column = (c: MirrorColumn): Row => [c.name, null, c.description ?? null];
  const own = Object.entries(OWN_COLUMN_DESCRIPTIONS).map(([name, text]): Row => [name, null, text]);
  writeDescriptions(db, mirror.name, [['', null, mirrorDescription(mirror)], ...own, ...mirror.columns.map(column)]);
}

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
    const fields = view.selects[0]?.fields ?? [];
    writeDescriptions(db, view.name, [
      ['', null, view.description],
      ...fields.map((f): Row => [f.field, f.type, f.description]),
    ]);
  }
  if (stored.get(CATALOGUE) !== CREATE_CATALOGUE) {
    db.exec(`DROP VIEW IF EXISTS ${CATALOGUE}`);
    db.exec(CREATE_CATALOGUE);
  }
}
