import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { MirrorTable } from '../src/schema/index.js';
import { Verdict } from '../src/plan/index.js';
import { readDigest } from '../src/store/sqlite/digest.js';
import { activeIndexSql, createMirrorSql } from '../src/store/sqlite/mirror.js';

/**
 * The SQLite digest reads the school's active rows a page of text at a time, in rowid order
 * through the index of rows by school and activity: across page boundaries, with a two-part key
 * whose first part is an integer, beside another school's rows, and with keys holding the page's
 * own separators (read again row by row), it must hold exactly the rows a plain row-by-row read
 * finds.
 */

const mirror: MirrorTable = {
  table: 'XX',
  name: 'cases_xx',
  key: ['yr', 'code'],
  columns: [
    { name: 'yr', source: 'YR', type: 'int' },
    { name: 'code', source: 'CODE', type: 'string' },
    { name: 'note', source: 'NOTE', type: 'string' },
  ],
};

const alone: MirrorTable = { ...mirror, table: 'YY', name: 'cases_yy' };

const hex = (n: number): string => n.toString(16).padStart(16, '0');

describe('SQLite digest', () => {
  let dir: string;
  let db: BetterSqlite3.Database;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'digest-'));
    db = new BetterSqlite3(join(dir, 'd.db'));
    db.exec(createMirrorSql(mirror));
    db.exec(activeIndexSql(mirror));
    const insert = db.prepare(
      `INSERT INTO cases_xx (school_id, yr, code, note, _active, _hash, _line_hash, _inserted_run, _changed_run) VALUES (?, ?, ?, 'n', ?, ?, ?, 1, 1)`,
    );
    db.transaction(() => {
      // 45,000 rows of school 8865 (three pages), years before and after 10 so that text order is not key order.
      for (let i = 0; i < 45_000; i++) {
        const code = i === 30_001 ? 'A\x1eB' : i === 7 ? 'C\x1dD' : `C${i}`;
        insert.run('8865', i % 12, code, i % 9 === 0 ? 0 : 1, hex(i), i % 5 === 0 ? null : hex(1e6 + i));
      }
      for (let i = 0; i < 3_000; i++) insert.run('1234', i % 12, `C${i}`, 1, hex(i), null);
      // A table of one school's rows alone.
      db.exec(createMirrorSql(alone));
      db.exec(activeIndexSql(alone));
      db.exec(`INSERT INTO cases_yy SELECT * FROM cases_xx WHERE school_id = '8865'`);
    })();
  });
  afterAll(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['beside another school', mirror],
    ['alone in its table', alone],
  ])(
    'holds exactly the active rows a row-by-row read finds, across pages and separators in keys, and knows inactive ones exist: %s',
    (_, table) => {
      const digest = readDigest(db, table, '8865');
      expect(digest.inactiveNotHeld).toBe(true);
      const all = db
        .prepare(
          `SELECT CAST(yr AS TEXT) || char(31) || code AS k, _hash AS h, _active AS a, _line_hash AS l, rowid AS r FROM ${table.name} WHERE school_id = '8865'`,
        )
        .all() as Array<{ k: string; h: string; a: number; l: string | null; r: number }>;
      const want = all.filter((row) => row.a === 1);
      expect(want.length).toBeGreaterThan(30_000);
      expect(want.length).toBeLessThan(all.length);
      expect(digest.size).toBe(want.length);
      for (const row of all) {
        // Same hash and line: unchanged for an active row whose line hash was stored; an inactive
        // row is not held, so it is work with no address (the plan looks it up).
        const verdict = digest.classify(row.k, row.h, row.l ?? hex(7));
        const expected = row.a === 1 ? (row.l === null ? Verdict.staleLine : Verdict.unchanged) : Verdict.work;
        expect(verdict, row.k).toBe(expected);
        expect(digest.lastAddress(), row.k).toBe(row.a === 1 ? row.r : null);
        expect(digest.lastActive(), row.k).toBe(row.a === 1);
      }
      expect(digest.countUnseenActive()).toBe(0);
    },
  );

  it('is empty for a school without rows, and one with only active rows has no inactive ones besides', () => {
    const none = readDigest(db, mirror, '9999');
    expect(none.size).toBe(0);
    expect(none.inactiveNotHeld).toBe(false);
    const active = readDigest(db, mirror, '1234');
    expect(active.size).toBe(3_000);
    expect(active.inactiveNotHeld).toBe(false);
  });

  it('reads past whole pages of inactive rows, and knows when there are none', () => {
    // A year of absences: the oldest rows (lowest rowids) left long ago, a page and more of them.
    const old: MirrorTable = { ...mirror, table: 'ZZ', name: 'cases_zz' };
    db.exec(createMirrorSql(old));
    db.exec(activeIndexSql(old));
    const insert = db.prepare(
      `INSERT INTO cases_zz (school_id, yr, code, note, _active, _hash, _line_hash, _inserted_run, _changed_run) VALUES ('8865', 1, ?, 'n', ?, ?, NULL, 1, 1)`,
    );
    db.transaction(() => {
      for (let i = 0; i < 25_000; i++) insert.run(`C${i}`, i < 24_000 ? 0 : 1, hex(i));
    })();
    const digest = readDigest(db, old, '8865');
    // Through the index: the plan never walks the inactive rows.
    const plan = db
      .prepare(
        `EXPLAIN QUERY PLAN SELECT rowid FROM cases_zz AS m WHERE m.school_id = ? AND m._active = 1 ORDER BY m.rowid`,
      )
      .all('8865') as Array<{ detail: string }>;
    expect(plan.map((p) => p.detail).join('; ')).toMatch(/USING (COVERING )?INDEX cases_zz__active/);
    expect(digest.size).toBe(1_000);
    expect(digest.inactiveNotHeld).toBe(true);
    expect(digest.classify(`1\x1fC24500`, hex(24_500), hex(1))).toBe(Verdict.staleLine);
    expect(digest.classify(`1\x1fC10`, hex(10), hex(1))).toBe(Verdict.work);
    // Every row active again: nothing inactive besides.
    db.exec('UPDATE cases_zz SET _active = 1');
    const all = readDigest(db, old, '8865');
    expect(all.size).toBe(25_000);
    expect(all.inactiveNotHeld).toBe(false);
  });
});
