import type { Database } from 'better-sqlite3';

import type { ColumnType } from '../../layouts/index.js';
import {
  assertSameKey,
  BOOKKEEPING,
  missingColumns,
  SCHOOL_COLUMN,
  type MirrorColumn,
  type MirrorTable,
} from '../../schema/index.js';
import { q } from './sql.js';
import { describeSqliteMirror } from './comments.js';

/** The mirror tables' DDL on SQLite, and making a mirror table ready for a file. */

/** SQLite has type affinities, not types; these keep values as the pipeline wrote them. */
const TYPES: Record<ColumnType, string> = {
  string: 'TEXT',
  flag: 'TEXT',
  smallint: 'INTEGER',
  int: 'INTEGER',
  decimal: 'NUMERIC',
  float: 'REAL',
  // ISO text sorts and compares correctly; a DATETIME declaration would give NUMERIC affinity.
  date: 'TEXT',
  datetime: 'TEXT',
  bytes: 'BLOB',
};

export function columnDdl(c: MirrorColumn): string {
  return `${q(c.name)} ${TYPES[c.type]}`;
}

export function createMirrorSql(m: MirrorTable): string {
  return [
    `CREATE TABLE IF NOT EXISTS ${q(m.name)} (`,
    `  ${q(SCHOOL_COLUMN)} TEXT NOT NULL,`,
    ...m.columns.map((c) => `  ${columnDdl(c)},`),
    `  ${q(BOOKKEEPING.active)} INTEGER NOT NULL DEFAULT 1,`,
    `  ${q(BOOKKEEPING.hash)} TEXT NOT NULL,`,
    `  ${q(BOOKKEEPING.insertedRun)} INTEGER NOT NULL,`,
    `  ${q(BOOKKEEPING.changedRun)} INTEGER NOT NULL,`,
    `  ${q(BOOKKEEPING.deactivatedRun)} INTEGER,`,
    `  ${q(BOOKKEEPING.lineHash)} TEXT,`,
    `  PRIMARY KEY (${[SCHOOL_COLUMN, ...m.key].map(q).join(', ')})`,
    ')',
  ].join('\n');
}

/** The school's rows in a mirror table, active or not: counted from the primary key's index alone. */
export function countRowsSql(m: MirrorTable): string {
  return `SELECT count(*) FROM ${q(m.name)} WHERE ${q(SCHOOL_COLUMN)} = ?`;
}

export function addColumnSql(table: string, c: MirrorColumn): string {
  return `ALTER TABLE ${q(table)} ADD COLUMN ${columnDdl(c)}`;
}

/** Creates the mirror table, adds the columns it lacks, and describes it (see views.ts). */
export function ensureSqliteMirror(db: Database, mirror: MirrorTable): void {
  // One look at the table as it stands: its key and its columns (none when it does not exist yet).
  const info = db.prepare(`SELECT name, pk FROM pragma_table_info(?)`);
  type Info = { name: string; pk: number };
  let table = info.all(mirror.name) as Info[];
  assertSameKey(
    mirror,
    table
      .filter((c) => c.pk > 0)
      .sort((a, b) => a.pk - b.pk)
      .map((c) => c.name),
  );
  const created = table.length === 0;
  if (created) {
    db.exec(createMirrorSql(mirror));
    table = info.all(mirror.name) as Info[];
  }
  const missing = missingColumns(mirror, new Set(table.map((r) => r.name)));
  for (const c of missing) db.exec(addColumnSql(mirror.name, c));
  describeSqliteMirror(db, mirror, created || missing.length > 0);
}
