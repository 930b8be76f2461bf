import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';

import { afterEach, beforeEach } from 'vitest';

import { loadConfig, type Config } from '../../src/config/index.js';
import { tempDir } from './fixtures.js';
import { copySample } from './nights.js';

/** Both databases the integration suite runs against (Kysely's DIALECTS loop). */
export const DIALECTS = ['sqlite', 'postgres'] as const;
export type Dialect = (typeof DIALECTS)[number];

/** Reads the database a test loaded, independently of the store under test. */
export interface Probe {
  /** Rows with booleans as 1/0 and dates as ISO text, so both dialects compare alike. */
  all(sql: string, params?: unknown[]): Promise<Array<Record<string, unknown>>>;
  close(): Promise<void>;
}

export interface Target {
  readonly dialect: Dialect;
  /** Environment for the CLI or loadConfig: DATABASE_URL (and DATABASE_SCHEMA). */
  readonly env: Record<string, string>;
  /** A folder of the target's own for sources, archives and the SQLite file. */
  readonly dir: string;
  config(extra?: Record<string, string>): Config;
  probe(): Promise<Probe>;
  cleanup(): Promise<void>;
}

function normalise(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row))
    out[k] = typeof v === 'boolean' ? (v ? 1 : 0) : v instanceof Date ? v.toISOString() : v;
  return out;
}

/** A fresh database for one test file: a new SQLite file, or a new PostgreSQL schema. */
export async function createTarget(dialect: Dialect): Promise<Target> {
  const { dir, cleanup: removeDir } = await tempDir(`cases-etl-${dialect}-`);
  const base = { ETL_FILE_STABLE_MS: '0', ETL_RETRY_DELAY_MS: '10', ETL_LOCK_TIMEOUT_MS: '20000' };
  if (dialect === 'sqlite') {
    const path = join(dir, 'cases-etl.db');
    const env = { ...base, DATABASE_URL: `sqlite:${path}` };
    return {
      dialect,
      env,
      dir,
      config: (extra = {}) => loadConfig({ ...env, ...extra }),
      async probe() {
        const db = new BetterSqlite3(path, { readonly: true });
        return {
          all: async (sql, params = []) =>
            (db.prepare(sql).all(...(params as never[])) as Array<Record<string, unknown>>).map(normalise),
          close: async () => void db.close(),
        };
      },
      cleanup: removeDir,
    };
  }
  const { createPgSchema } = await import('./postgres.js');
  const pgSchema = await createPgSchema();
  const env = { ...base, DATABASE_URL: pgSchema.url, DATABASE_SCHEMA: pgSchema.schema };
  return {
    dialect,
    env,
    dir,
    config: (extra = {}) => loadConfig({ ...env, ...extra }),
    async probe() {
      // bigint (run ids, counts) as numbers, as SQLite gives them; a date as its ISO text, as
      // SQLite's views give it (node-postgres would make it a Date at local midnight).
      const parsers: Record<number, (v: string) => unknown> = { 20: (v) => Number(v), 1082: (v) => v };
      const types = {
        getTypeParser: (oid: number, format?: 'text' | 'binary') =>
          parsers[oid] ?? pg.types.getTypeParser(oid, format ?? 'text'),
      };
      const client = new pg.Client({ connectionString: pgSchema.url, types: types as pg.CustomTypesConfig });
      await client.connect();
      await client.query(`SET search_path TO "${pgSchema.schema}"`);
      return {
        all: async (sql, params = []) => {
          // $1-style placeholders: the suite writes ? for both dialects.
          let n = 0;
          const text = sql.replace(/\?/g, () => `$${++n}`);
          return (await client.query(text, params)).rows.map(normalise);
        },
        close: () => client.end(),
      };
    },
    async cleanup() {
      await pgSchema.drop();
      await removeDir();
    },
  };
}

/** What `useExportFolder` gives each test: its target, its export folder, and a query on its database. */
export interface ExportFolder {
  readonly target: Target;
  /** The export folder, `<target dir>/export`. */
  readonly src: string;
  /** Rows of `sql` (`?` placeholders) through a probe opened on first use: the SQLite file exists only once a run made it. */
  query(sql: string, params?: unknown[]): Promise<Array<Record<string, unknown>>>;
}

/**
 * A fresh database and export folder for each test of the enclosing describe (the shipped sample
 * copied in unless `sample: false`), closed and removed after it.
 */
export function useExportFolder(dialect: Dialect, options: { readonly sample?: boolean } = {}): ExportFolder {
  let target: Target | undefined;
  let probe: Probe | undefined;
  let src = '';
  beforeEach(async () => {
    target = await createTarget(dialect);
    src = join(target.dir, 'export');
    if (options.sample === false) await mkdir(src, { recursive: true });
    else await copySample(src);
  });
  afterEach(async () => {
    await probe?.close();
    probe = undefined;
    await target?.cleanup();
  });
  const current = (): Target => {
    if (!target) throw new Error('useExportFolder: no target outside a test');
    return target;
  };
  return {
    get target() {
      return current();
    },
    get src() {
      return src;
    },
    query: async (sql, params = []) => (probe ??= await current().probe()).all(sql, params),
  };
}
