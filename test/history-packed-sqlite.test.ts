import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

import { createSqliteStore } from '../src/store/sqlite/index.js';
import { LEDGER, MIGRATIONS } from '../src/store/sqlite/ledger.js';

/**
 * SQLite's migration 008: the compact history an earlier version kept, one row per entry, is
 * packed by run, table and op (1,000 keys a row at most) and reads back through the etl_history
 * view entry for entry. PostgreSQL's 012 is tested in store-postgres-migrate.test.ts.
 */

const dir = mkdtempSync(join(tmpdir(), 'cases-etl-packed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('SQLite compact history, packed (008)', () => {
  it('packs the entries of an older ledger and reads them back unchanged', async () => {
    const path = join(dir, 'old.db');
    const db = new BetterSqlite3(path);
    db.exec(LEDGER.createMigrations);
    for (const m of MIGRATIONS.filter((m) => m.version <= 7)) {
      db.exec(m.sql);
      db.prepare(LEDGER.recordMigration).run(m.version, m.name, '2026-01-01T00:00:00Z');
    }
    const run = db.prepare(
      `INSERT INTO etl_runs (school_id, status, trigger, started_at, finished_at) VALUES ('8865', 'succeeded', 'cli', ?, ?)`,
    );
    const r1 = Number(run.run('2026-01-01T00:00:00Z', '2026-01-01T00:01:00Z').lastInsertRowid);
    const r2 = Number(run.run('2026-01-02T00:00:00Z', '2026-01-02T00:01:00Z').lastInsertRowid);
    const add = db.prepare(
      `INSERT INTO etl_history (school_id, run_id, seq, table_name, row_key, op, changes) VALUES ('8865', ?, ?, ?, ?, ?, ?)`,
    );
    for (let i = 0; i < 1203; i++) add.run(r1, i + 1, 'SXAB', `A${i}`, 'inserted', null);
    add.run(r2, 2000, 'ST', 'S1', 'updated', '{"home_group":["9B","10C"]}');
    add.run(r2, 2001, 'ST', '12', 'updated', null);
    add.run(r2, 2002, 'ST', 'S3', 'deactivated', null);
    add.run(r2, 2003, 'ST', 'S4', 'updated', '{"surname":["A",null]}');
    const read = 'SELECT run_id, seq, table_name, row_key, op, changes FROM etl_history ORDER BY run_id, seq';
    const before = db.prepare(read).all();
    db.close();

    const store = createSqliteStore(path, { busyTimeoutMs: 1000 });
    try {
      expect(await store.migrate()).toEqual(['008_history_packed', '009_history_diff']);
    } finally {
      await store.close();
    }
    const after = new BetterSqlite3(path, { readonly: true });
    try {
      expect(after.prepare(read).all()).toEqual(before);
      expect(
        after
          .prepare(
            `SELECT table_name, op, json_array_length(entries) AS n, NOT entries LIKE '%{%' AS bare FROM etl_history_packed ORDER BY run_id, first_seq`,
          )
          .all(),
      ).toEqual([
        { table_name: 'SXAB', op: 'inserted', n: 1000, bare: 1 },
        { table_name: 'SXAB', op: 'inserted', n: 203, bare: 1 },
        { table_name: 'ST', op: 'updated', n: 3, bare: 0 },
        { table_name: 'ST', op: 'deactivated', n: 1, bare: 1 },
      ]);
      expect(after.prepare(`SELECT row_key, changed_columns FROM cases_history WHERE table_name = 'ST'`).all()).toEqual(
        [
          { row_key: 'S1', changed_columns: '["home_group"]' },
          { row_key: '12', changed_columns: '[]' },
          { row_key: 'S3', changed_columns: '[]' },
          { row_key: 'S4', changed_columns: '["surname"]' },
        ],
      );
    } finally {
      after.close();
    }
  });
});
