import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadBuiltinLayouts } from '../src/layouts/index.js';
import { createRowHasher } from '../src/load/index.js';
import { mirrorFor } from '../src/schema/index.js';
import { createPostgresStore } from '../src/store/postgres/index.js';
import { LEDGER, MIGRATIONS } from '../src/store/postgres/ledger.js';
import type { Store } from '../src/store/types.js';
import { closePgStore, createPgSchema, newRun, openPgStore, type PgSchema } from './helpers/postgres.js';

/**
 * The PostgreSQL adapter's migrations, against the machine's PostgreSQL: applied once, safe when
 * processes race, possible without CREATE on the database, and the types they give the ledger.
 * Separate processes are stood in for by separate stores (separate pools).
 */

let target: PgSchema;
let store: Store;
let probe: pg.Client;

beforeAll(async () => ({ target, store, probe } = await openPgStore()));
afterAll(() => closePgStore({ target, store, probe }));

describe('migrate', () => {
  it('applies the ledger once and then nothing', async () => {
    const fresh = await createPgSchema();
    const s = createPostgresStore(fresh.url, fresh.schema);
    try {
      expect(await s.migrate()).toEqual([
        '001_ledger',
        '002_rollback',
        '003_changes_unchecked_run',
        '004_json_images',
        '005_changes_keyed_by_run',
        '006_changes_id_cache',
        '007_held_deferred',
        '008_original_line',
        '009_repeated_loads',
        '010_history',
        '011_finished_as',
        '012_history_packed',
      ]);
      expect(await s.migrate()).toEqual([]);
    } finally {
      await s.close();
      await fresh.drop();
    }
  });

  it('packs the compact history an earlier version kept, entry for entry (012)', async () => {
    const fresh = await createPgSchema();
    const client = new pg.Client({ connectionString: fresh.url });
    await client.connect();
    const s = createPostgresStore(fresh.url, fresh.schema);
    try {
      await client.query(`SET search_path TO "${fresh.schema}"`);
      // The ledger as version 011 left it, with its compact history: one row per entry.
      await client.query(LEDGER.createMigrations);
      for (const m of MIGRATIONS.filter((m) => m.version <= 11)) {
        await client.query(m.sql);
        await client.query(LEDGER.recordMigration, [m.version, m.name]);
      }
      await client.query(
        `INSERT INTO etl_runs (school_id, status, trigger, dry_run, started_at, finished_at)
         VALUES ('8865', 'succeeded', 'cli', false, now(), now()), ('8865', 'succeeded', 'cli', false, now(), now())`,
      );
      const runs = (await client.query<{ id: string }>('SELECT id FROM etl_runs ORDER BY id')).rows.map((r) => r.id);
      const entries: [string, number, string, string, string, string | null][] = [];
      for (let i = 0; i < 1203; i++) entries.push([runs[0]!, i + 1, 'SXAB', `A${i}`, 'inserted', null]);
      entries.push([runs[1]!, 2000, 'ST', 'S1', 'updated', '{"home_group": ["9B", "10C"]}']);
      entries.push([runs[1]!, 2001, 'ST', 'S2', 'updated', null]);
      entries.push([runs[1]!, 2002, 'ST', 'S3', 'deactivated', null]);
      entries.push([runs[1]!, 2003, 'ST', 'S4', 'updated', '{"surname": ["A", "B"]}']);
      await client.query(
        `INSERT INTO etl_history (run_id, seq, table_name, row_key, op, changes, school_id)
         SELECT *, '8865' FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::json[])`,
        [0, 1, 2, 3, 4, 5].map((c) => entries.map((e) => e[c])),
      );
      const read = `SELECT run_id::text, table_name, row_key, op, changes::text FROM etl_history ORDER BY run_id, seq`;
      const before = (await client.query(read)).rows;

      expect(await s.migrate()).toEqual(['012_history_packed']);
      expect((await client.query(read)).rows).toEqual(before);
      // Packed: by run, table and op, 1,000 keys a row at most; no changes where none had any.
      const packed = await client.query(
        `SELECT table_name, op, cardinality(row_keys) AS n, changes IS NULL AS bare FROM etl_history_packed ORDER BY run_id, seqs[1]`,
      );
      expect(packed.rows).toEqual([
        { table_name: 'SXAB', op: 'inserted', n: 1000, bare: true },
        { table_name: 'SXAB', op: 'inserted', n: 203, bare: true },
        { table_name: 'ST', op: 'updated', n: 3, bare: false },
        { table_name: 'ST', op: 'deactivated', n: 1, bare: true },
      ]);
      // An update without changed columns reads as none, and the view still names the columns.
      const columns = await client.query(
        `SELECT row_key, changed_columns FROM cases_history WHERE table_name = 'ST' ORDER BY row_key`,
      );
      expect(columns.rows).toEqual([
        { row_key: 'S1', changed_columns: ['home_group'] },
        { row_key: 'S2', changed_columns: [] },
        { row_key: 'S3', changed_columns: [] },
        { row_key: 'S4', changed_columns: ['surname'] },
      ]);
    } finally {
      await client.end();
      await s.close();
      await fresh.drop();
    }
  });

  it('gives each session its own block of change ids, in order within it', async () => {
    const fresh = await createPgSchema();
    const s = createPostgresStore(fresh.url, fresh.schema);
    const sessions = [new pg.Client({ connectionString: fresh.url }), new pg.Client({ connectionString: fresh.url })];
    try {
      await s.migrate();
      const ids: bigint[][] = [[], []];
      for (const c of sessions) {
        await c.connect();
        await c.query(`SET search_path TO "${fresh.schema}"`);
      }
      // Two runs logging changes turn about, as two schools' runs do side by side.
      for (let i = 0; i < 3; i++) {
        for (const [n, c] of sessions.entries()) {
          const r = await c.query<{ id: string }>(
            `INSERT INTO etl_changes (run_id, school_id, table_name, row_key, op) VALUES ($1, '8865', 'ST', $2, 'insert') RETURNING id`,
            [n + 1, `K${i}`],
          );
          ids[n]?.push(BigInt(r.rows[0]?.id ?? '0'));
        }
      }
      for (const run of ids) expect([...run].sort((a, b) => (a < b ? -1 : 1))).toEqual(run);
      // Uncached, the two would take ids alternately; cached, each run's lie in its own block.
      const [first, second] = ids as [bigint[], bigint[]];
      expect(second[0]! - first[0]!).toBeGreaterThanOrEqual(1024n);
      expect(first.at(-1)! - first[0]!).toBe(2n);
    } finally {
      for (const c of sessions) await c.end().catch(() => undefined);
      await s.close();
      await fresh.drop();
    }
  });

  it('is safe when three processes migrate a schema that does not exist yet at once', async () => {
    for (let round = 0; round < 3; round++) {
      const schema = `${target.schema}_c${round}`;
      const stores = [0, 1, 2].map(() => createPostgresStore(target.url, schema));
      try {
        const applied = await Promise.all(stores.map((s) => s.migrate()));
        expect(applied.map((a) => a.join(',')).sort()).toEqual([
          '',
          '',
          '001_ledger,002_rollback,003_changes_unchecked_run,004_json_images,005_changes_keyed_by_run,006_changes_id_cache,007_held_deferred,008_original_line,009_repeated_loads,010_history,011_finished_as,012_history_packed',
        ]);
        const tables = await probe.query(
          `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`,
          [schema],
        );
        expect(tables.rows.map((r) => r.table_name)).toEqual([
          'cases_history',
          'etl_changes',
          'etl_history',
          'etl_history_all',
          'etl_history_held',
          'etl_history_packed',
          'etl_history_recent',
          'etl_migrations',
          'etl_rejects',
          'etl_rollbacks',
          'etl_run_files',
          'etl_runs',
        ]);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
        await probe.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      }
    }
  });

  it('migrates and loads as a role that owns its schema but may not create schemas', async () => {
    const fresh = await createPgSchema();
    const role = `${fresh.schema}_etl`;
    await probe.query(`CREATE ROLE "${role}" LOGIN`);
    try {
      await probe.query(`GRANT USAGE, CREATE ON SCHEMA "${fresh.schema}" TO "${role}"`);
      const url = new URL(fresh.url);
      url.username = role;
      const limited = createPostgresStore(url.toString(), fresh.schema);
      try {
        expect(await limited.migrate()).toEqual([
          '001_ledger',
          '002_rollback',
          '003_changes_unchecked_run',
          '004_json_images',
          '005_changes_keyed_by_run',
          '006_changes_id_cache',
          '007_held_deferred',
          '008_original_line',
          '009_repeated_loads',
          '010_history',
          '011_finished_as',
          '012_history_packed',
        ]);
        const mirror = mirrorFor(loadBuiltinLayouts().get('KSF')!, []);
        const hasher = createRowHasher(['ksfkey']);
        const counts = await limited.withRunSession('7001', 5000, async (session) => {
          const runId = await session.startRun(newRun('7001'));
          return session.transaction(async (tx) => {
            await tx.ensureMirror(mirror);
            async function* batches() {
              yield [{ key: 'ENG', values: ['ENG'], hash: hasher.hash(['ENG']), line: null }];
            }
            return tx.mergeFile({ runId, school: '7001', mirror, mode: 'full', columns: ['ksfkey'] }, batches());
          });
        });
        expect(counts).toMatchObject({ inserted: 1 });
      } finally {
        await limited.close();
      }
    } finally {
      await fresh.drop();
      await probe.query(`DROP OWNED BY "${role}"`);
      await probe.query(`DROP ROLE "${role}"`);
    }
  });

  it('creates the ledger with PostgreSQL types', async () => {
    const { rows } = await probe.query(
      `SELECT table_name || '.' || column_name AS col, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name LIKE 'etl_%'`,
      [target.schema],
    );
    const types = Object.fromEntries(rows.map((r) => [r.col, r.data_type]));
    expect(types).toMatchObject({
      'etl_runs.id': 'bigint',
      'etl_runs.started_at': 'timestamp with time zone',
      'etl_runs.finished_at': 'timestamp with time zone',
      'etl_runs.dry_run': 'boolean',
      'etl_runs.error_rate': 'double precision',
      'etl_runs.overrides': 'jsonb',
      'etl_runs.school_id': 'text',
      'etl_changes.before': 'json',
      'etl_changes.after': 'json',
      'etl_changes.run_id': 'bigint',
      'etl_rejects.id': 'bigint',
    });
    const indexes = await probe.query(`SELECT indexname FROM pg_indexes WHERE schemaname = $1 ORDER BY 1`, [
      target.schema,
    ]);
    expect(indexes.rows.map((r) => r.indexname)).toEqual(
      expect.arrayContaining(['etl_changes_pkey', 'etl_rejects_run', 'etl_runs_fileset', 'etl_runs_school']),
    );
    expect(indexes.rows.map((r) => r.indexname)).not.toContain('etl_changes_run');
    // Changes are read and deleted a run at a time, by the one index over (run_id, id).
    const key = await probe.query(
      `SELECT pg_get_indexdef(i.indexrelid) AS def FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = 'etl_changes_pkey'`,
      [target.schema],
    );
    expect(key.rows[0]?.def).toMatch(/\(run_id, id\)$/);
  });
});
