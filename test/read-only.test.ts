import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runCli } from './helpers/cli.js';
import { uniquePrefix } from './helpers/jobs.js';
import { SAMPLE } from './helpers/nights.js';

/**
 * Commands that only look must leave no trace: `runs`, `runs --id`, `layouts`, `validate` and
 * `schedule show` against a database that has no ledger create no directory, database file,
 * schema or table, say that nothing has run yet, and exit 0. An older ledger is named, not
 * migrated behind the operator's back. Real child processes, real SQLite files, real PostgreSQL.
 */

const PG = 'postgres://postgres@127.0.0.1:5432/test';

/** Every path under `dir`, recursively, sorted. */
async function tree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.map(String).sort();
}

describe('read-only commands', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'read-only-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('create nothing on SQLite, and say no ledger is there yet', async () => {
    const work = join(dir, 'sqlite');
    await rm(work, { recursive: true, force: true });
    await mkdir(work);
    const env = {
      DATABASE_URL: `sqlite:${join(work, 'data', 'cases-etl.db')}`,
      CASES_DIRECTORY: SAMPLE,
      REDIS_URL: 'redis://127.0.0.1:6379',
      ETL_QUEUE_PREFIX: uniquePrefix(),
    };
    const commands = [
      ['runs'],
      ['runs', '--id', '1'],
      ['runs', '--school', '8865'],
      ['runs', '--json'],
      ['layouts', 'list'],
      ['layouts', 'show', 'ST'],
      ['validate'],
      ['schedule', 'show'],
    ];
    for (const args of commands) {
      const r = await runCli(args, env, work);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      if (args[0] === 'runs') {
        const said = `No ledger in sqlite:${join(work, 'data', 'cases-etl.db')}: nothing has run yet; \`cases-etl migrate\` creates it.`;
        expect(r.stdout + r.stderr, args.join(' ')).toContain(said);
      }
      expect(await tree(work), args.join(' ')).toEqual([]);
    }
    // `runs --json` stays JSON on stdout; the words go to stderr.
    const json = await runCli(['runs', '--json'], env, work);
    expect(JSON.parse(json.stdout)).toEqual([]);
  });

  it('create no schema or table on PostgreSQL', async () => {
    const schema = `ro_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
    const env = { DATABASE_URL: PG, DATABASE_SCHEMA: schema };
    for (const args of [['runs'], ['runs', '--id', '7'], ['runs', '--school', '8865']]) {
      const r = await runCli(args, env, dir);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(
        `No ledger in postgres://127.0.0.1:5432/test (schema ${schema}): nothing has run yet; \`cases-etl migrate\` creates it.`,
      );
    }
    const client = new pg.Client({ connectionString: PG });
    await client.connect();
    try {
      const found = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
      expect(found.rowCount).toBe(0);
      // A schema made by a DBA, empty: still no ledger, and still nothing created in it.
      await client.query(`CREATE SCHEMA ${schema}`);
      const r = await runCli(['runs'], env, dir);
      expect([r.code, r.stdout.includes('No ledger in')]).toEqual([0, true]);
      const tables = await client.query('SELECT 1 FROM pg_tables WHERE schemaname = $1', [schema]);
      expect(tables.rowCount).toBe(0);
    } finally {
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    }
  });

  it('name an older ledger instead of migrating it, and read a current one', async () => {
    const work = join(dir, 'older');
    const file = join(work, 'ledger.db');
    const env = { DATABASE_URL: `sqlite:${file}` };
    expect((await runCli(['migrate'], env, dir)).code).toBe(0);
    const current = await runCli(['runs'], env, dir);
    expect([current.code, current.stdout.trim()]).toEqual([0, `No runs yet in sqlite:${file}.`]);

    const db = new BetterSqlite3(file);
    const last = db.prepare('SELECT max(version) AS v, count(*) AS n FROM etl_migrations').get() as {
      v: number;
      n: number;
    };
    db.prepare('DELETE FROM etl_migrations WHERE version = ?').run(last.v);
    db.close();

    const older = await runCli(['runs'], env, dir);
    expect(older.code).toBe(1);
    expect(older.stderr).toMatch(/^error ETL_LEDGER_OUTDATED: the ledger in sqlite:.* lacks 1 migration\(s\)/);
    expect(older.stderr).toContain('fix: Run `cases-etl migrate`');
    const after = new BetterSqlite3(file, { readonly: true });
    expect((after.prepare('SELECT count(*) AS n FROM etl_migrations').get() as { n: number }).n).toBe(last.n - 1);
    after.close();
  });
});
