import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { MirrorTable, ViewDef, ViewField } from '../src/schema/index.js';
import { activeIndexSql, ensureSqliteMirror } from '../src/store/sqlite/mirror.js';
import { ensureSqliteViews } from '../src/store/sqlite/views.js';

/**
 * Making a mirror ready on SQLite changes the schema only when something changed: any schema
 * change makes SQLite read the whole schema again at the next statement, which cost a re-run of a
 * school more than its rows. A view whose columns changed is still made again.
 */

const mirror = (extra: boolean): MirrorTable => ({
  table: 'XX',
  name: 'cases_xx',
  key: ['code'],
  columns: [
    { name: 'code', source: 'CODE', type: 'string', description: 'The code' },
    ...(extra ? [{ name: 'note', source: 'NOTE', type: 'string' as const, description: 'A note' }] : []),
  ],
});

const field = (column: string): ViewField => ({
  field: column,
  value: { kind: 'column', from: 't', column, cast: 'none' },
  type: 'text',
  description: null,
});

const view: ViewDef = {
  name: 'xx_view',
  table: 'XX',
  description: 'a test view',
  selects: [{ table: 'XX', mirror: 'cases_xx', joins: [], where: [], fields: [field('code'), field('note')] }],
};

/** What a run does: the file's mirror (indexed once a new one is loaded), then the views once its files are in. */
const ensure = (db: BetterSqlite3.Database, extra: boolean): void => {
  if (ensureSqliteMirror(db, mirror(extra))) db.exec(activeIndexSql(mirror(extra)));
  ensureSqliteViews(db, [view]);
};

describe('SQLite mirror', () => {
  let dir: string;
  let db: BetterSqlite3.Database;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mirror-'));
    db = new BetterSqlite3(join(dir, 'm.db'));
  });
  afterAll(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });

  const schemaVersion = (): number => db.pragma('schema_version', { simple: true }) as number;
  const viewColumns = (): string[] =>
    (db.prepare(`SELECT name FROM pragma_table_info('xx_view')`).all() as Array<{ name: string }>).map((r) => r.name);

  it('leaves the schema alone when the table and its views are as they should be', () => {
    ensure(db, false);
    expect(viewColumns()).toEqual(['code']);
    const before = schemaVersion();
    ensure(db, false);
    ensure(db, false);
    expect(schemaVersion()).toBe(before);
  });

  it('gives a table an earlier version made its index of active rows on its next load, once', () => {
    db.exec('DROP INDEX cases_xx__active');
    const before = schemaVersion();
    expect(ensureSqliteMirror(db, mirror(false))).toBe(false);
    expect(schemaVersion()).toBeGreaterThan(before);
    const index = `SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'cases_xx__active'`;
    expect(String((db.prepare(index).get() as { sql: string }).sql)).toContain('("school_id", "_active")');
    const after = schemaVersion();
    ensureSqliteMirror(db, mirror(false));
    expect(schemaVersion()).toBe(after);
  });

  it('adds a new column and makes the view over it again', () => {
    const before = schemaVersion();
    ensure(db, true);
    expect(schemaVersion()).toBeGreaterThan(before);
    expect(viewColumns()).toEqual(['code', 'note']);
  });

  it('lists what each column of the mirror and its views means in cases_etl_columns, describing an older table once', () => {
    const catalogue = (): unknown[] =>
      db
        .prepare(
          `SELECT table_name, column_name, type, description FROM cases_etl_columns WHERE column_name IN ('code', 'note') ORDER BY 1, 2`,
        )
        .all();
    const described = [
      { table_name: 'cases_xx', column_name: 'code', type: 'text', description: 'The code' },
      { table_name: 'cases_xx', column_name: 'note', type: 'text', description: 'A note' },
      { table_name: 'xx_view', column_name: 'code', type: 'text', description: null },
      { table_name: 'xx_view', column_name: 'note', type: 'text', description: null },
    ];
    expect(catalogue()).toEqual(described);
    // As an earlier version left the table: never described. The next file of it describes it.
    db.prepare(`DELETE FROM cases_etl_descriptions WHERE relation = 'cases_xx'`).run();
    expect(catalogue()).toHaveLength(2);
    ensure(db, true);
    expect(catalogue()).toEqual(described);
  });
});
