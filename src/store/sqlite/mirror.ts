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

/**
 * The index of each school's rows by whether they are active, in rowid order: the digest reads a
 * school's active rows through it, and finds whether it has inactive ones with one step. Rows
 * that left (a year of absences) stay as inactive rows and come to outnumber the active ones
 * several times; without it, each night's digest walked them all (SXAB after a year: 22,700
 * inactive rows beside 4,100 active, 3.5 ms against 1.4 through the index). A table made for a
 * load gets it once the load is in (see the store's mergeFile), every other load makes sure of it.
 */
export function activeIndexSql(m: MirrorTable): string {
  return `CREATE INDEX IF NOT EXISTS ${q(`${m.name}__active`)} ON ${q(m.name)} (${q(SCHOOL_COLUMN)}, ${q(BOOKKEEPING.active)});`;
}

/** The school's rows in a mirror table, active or not: counted from an index alone. */
export function countRowsSql(m: MirrorTable): string {
  return `SELECT count(*) FROM ${q(m.name)} WHERE ${q(SCHOOL_COLUMN)} = ?`;
}

/** 1 when the school has inactive rows in a mirror table (one step into activeIndexSql's index), else 0. */
export function hasInactiveSql(m: MirrorTable): string {
  return `SELECT EXISTS (SELECT 1 FROM ${q(m.name)} WHERE ${q(SCHOOL_COLUMN)} = ? AND ${q(BOOKKEEPING.active)} = 0)`;
}

export function addColumnSql(table: string, c: MirrorColumn): string {
  return `ALTER TABLE ${q(table)} ADD COLUMN ${columnDdl(c)}`;
}

/**
 * Creates the mirror table, adds the columns it lacks, and describes it (see views.ts); true when
 * it created the table, which then lacks its index of active rows until the caller adds it
 * (activeIndexSql) once the table's first rows are in.
 */
export function ensureSqliteMirror(db: Database, mirror: MirrorTable): boolean {
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
  // A table made before the index was (by an earlier version, or a load whose index failed) gets it now.
  if (!created) db.exec(activeIndexSql(mirror));
  describeSqliteMirror(db, mirror, created || missing.length > 0);
  return created;
}
