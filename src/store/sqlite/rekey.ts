import type { Database } from 'better-sqlite3';

import {
  type MirrorTable,
  assertKeyHolds,
  assertRekeyable,
  keyAfterSchool,
  type RekeyCounts,
  type RekeyResult,
} from '../../schema/index.js';
import {
  copyRowsSql,
  dropTableSql,
  rebuiltMirrorSql,
  rekeyCountsSql,
  renameTableSql,
  TABLE_COLUMNS,
  TABLE_EXTRAS,
  type TableColumnInfo,
} from './sql.js';
import { LEDGER } from './ledger.js';

/** The rebuilt table's name until it takes the old one's. */
const REBUILT = 'cases_etl_rekey';

/**
 * Rebuilds `mirror` under its layout's key on SQLite, inside the caller's transaction. SQLite
 * cannot change a primary key in place, so a new table with the same columns and the new key
 * takes every row (rowids and their order kept), the old table goes, and the new one takes its
 * name; its own indexes and triggers are made again.
 *
 * Views are left alone: the rename runs with `legacy_alter_table` on, so SQLite neither rewrites
 * nor checks the schema's views (by default it re-parses every view on a rename and fails while
 * one names the dropped table). Views name the table, so they read the new one once it has the
 * name, and views an intranet made over the mirror survive as well as cases-etl's own.
 */
export function rekeySqlite(db: Database, mirror: MirrorTable): RekeyResult {
  const info = db.prepare(TABLE_COLUMNS).all(mirror.name) as TableColumnInfo[];
  const current = info
    .filter((c) => c.pk > 0)
    .sort((a, b) => a.pk - b.pk)
    .map((c) => c.name);
  const changed = assertRekeyable(mirror, new Set(info.map((c) => c.name)), current);
  type CountRow = { rows: number; null_rows: number; duplicate_rows: number; duplicate_keys: number };
  const row = db.prepare(rekeyCountsSql(mirror.name, mirror.key)).get() as CountRow;
  const counts: RekeyCounts = {
    rows: row.rows,
    nullRows: row.null_rows,
    duplicateRows: row.duplicate_rows,
    duplicateKeys: row.duplicate_keys,
  };
  const oldKey = keyAfterSchool(current);
  const result = { table: mirror.table, mirror: mirror.name, oldKey, newKey: [...mirror.key], rows: counts.rows };
  if (!changed) return { ...result, changed: false, prunedRuns: [] };
  // SQLite lets a primary key column hold NULL (unless declared NOT NULL), so this check is what
  // keeps empty keys out, not the new table.
  assertKeyHolds(mirror, counts);

  const extras = (db.prepare(TABLE_EXTRAS).all(mirror.name) as Array<{ sql: string }>).map((r) => r.sql);
  db.exec(rebuiltMirrorSql(REBUILT, info, mirror.key));
  db.exec(
    copyRowsSql(
      mirror.name,
      REBUILT,
      info.map((c) => c.name),
    ),
  );
  db.exec(dropTableSql(mirror.name));
  const legacy = db.pragma('legacy_alter_table', { simple: true }) as number;
  db.pragma('legacy_alter_table = ON');
  try {
    db.exec(renameTableSql(REBUILT, mirror.name));
  } finally {
    db.pragma(`legacy_alter_table = ${legacy ? 'ON' : 'OFF'}`);
  }
  for (const sql of extras) db.exec(sql);

  const runs = (db.prepare(LEDGER.runsChangingTable).all(mirror.table) as Array<{ id: number }>).map((r) => r.id);
  const compact = db.prepare(LEDGER.compactRun);
  const deleteChanges = db.prepare(LEDGER.deleteChanges);
  const markPruned = db.prepare(LEDGER.markPruned);
  for (const id of runs) {
    // What the run published stays in the compact history (rows of this table under the keys
    // they had then); the next night's prune drops what is past ETL_HISTORY_DAYS.
    compact.run(id, '');
    deleteChanges.run(id);
    markPruned.run(id);
  }
  return { ...result, changed: true, prunedRuns: runs };
}
