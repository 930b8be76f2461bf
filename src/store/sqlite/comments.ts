import type { Database } from 'better-sqlite3';

import {
  mirrorDescription,
  OWN_COLUMN_DESCRIPTIONS,
  type MirrorColumn,
  type MirrorTable,
  type ViewDef,
} from '../../schema/index.js';

/**
 * What stands in for PostgreSQL's comments on SQLite, which has no COMMENT: what each mirror and
 * view column means is kept in a small table, `cases_etl_descriptions`, written when a table or
 * view is made or changed, and the view `cases_etl_columns` lists every column of those relations
 * with its type and description (views.ts makes it).
 */

/** What each described relation's columns mean; column '' holds the relation's own description. */
export const DESCRIPTIONS = 'cases_etl_descriptions';
export const CATALOGUE = 'cases_etl_columns';

export const CREATE_DESCRIPTIONS = `CREATE TABLE IF NOT EXISTS ${DESCRIPTIONS} (
  relation TEXT NOT NULL,
  column_name TEXT NOT NULL,
  type TEXT,
  description TEXT,
  PRIMARY KEY (relation, column_name)
)`;

/** Every column of every relation described, in column order; a view column's type as the view gives it. */
export const CREATE_CATALOGUE = `CREATE VIEW ${CATALOGUE} AS
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

/** Describes a view just made: each column with the type the view gives it. */
export function describeSqliteView(db: Database, view: ViewDef): void {
  const fields = view.selects[0]?.fields ?? [];
  writeDescriptions(db, view.name, [
    ['', null, view.description],
    ...fields.map((f): Row => [f.field, f.type, f.description]),
  ]);
}
