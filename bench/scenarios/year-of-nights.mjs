// A year of nights: one school loaded night after night (bench/nights.mjs: about 1% of its rows
// change each night), each night timed and the database measured after it; then, side by side,
// nights past the year against night 2 of a fresh database, in turns.
//   node year-of-nights.mjs <nights> <school folder> <work folder> [pairs] [http]
// Database from DATABASE_URL (sqlite:… or postgres://…) and DATABASE_SCHEMA.
// Prints one JSON line: { rows, seconds, maxRssMb, nights: [...], pairs: [...], http }.
import { statSync } from 'node:fs';
import { join } from 'node:path';

import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';

import { buildAppServer, createApp } from '../../dist/app/index.js';
import { loadConfig } from '../../dist/config/index.js';
import { createLogger } from '../../dist/observability/logger.js';
import { SUMMARY_SQL } from '../../dist/store/common.js';
import { runEtl } from '../../dist/pipeline/index.js';
import { schoolNights } from '../nights.mjs';

const [nightsText, schoolDir, workDir, pairsText] = process.argv.slice(2);
const ROUTES = ['/api/cases-etl/health', '/metrics', '/api/cases-etl/schools', '/dashboard'];
const REQUESTS = 40;
const NIGHTS = Number(nightsText);
const PAIRS = Number(pairsText ?? 5);
const url = process.env.DATABASE_URL ?? '';
const postgres = url.startsWith('postgres');

/** The database's size in bytes: SQLite's file (and WAL), or every table of the schema with its indexes and TOAST. */
async function sizeOf(env) {
  if (!postgres) {
    const file = env.DATABASE_URL.replace(/^sqlite:/, '');
    const size = (p) => {
      try {
        return statSync(p).size;
      } catch {
        return 0;
      }
    };
    return size(file) + size(`${file}-wal`);
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const r = await client.query(
      `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint AS bytes FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r', 'm')`,
      [env.DATABASE_SCHEMA],
    );
    return Number(r.rows[0].bytes);
  } finally {
    await client.end();
  }
}

/**
 * The compact history's size in bytes (etl_history_packed, SQLite's migration 008 and
 * PostgreSQL's 012): SQLite's pages of it and its index (dbstat), PostgreSQL's relation with its
 * indexes and TOAST. What a run's changes leave once it
 * is past ETL_SNAPSHOT_RETENTION.
 */
async function historyBytes(env) {
  if (!postgres) {
    const db = new BetterSqlite3(env.DATABASE_URL.replace(/^sqlite:/, ''), { readonly: true });
    try {
      return db
        .prepare(
          `SELECT coalesce(sum(pgsize), 0) AS bytes FROM dbstat WHERE name IN ('etl_history_packed', 'etl_history_packed_row')`,
        )
        .get().bytes;
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const r = await client.query(
      `SELECT pg_total_relation_size(format('%I.etl_history_packed', $1::text)::regclass)::bigint AS bytes`,
      [env.DATABASE_SCHEMA],
    );
    return Number(r.rows[0].bytes);
  } finally {
    await client.end();
  }
}

async function dropSchema(name) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
  await client.end();
}

/** One night through runEtl, as `cases-etl run` does it: its seconds and what it did. */
async function night(env, dir) {
  const config = loadConfig({ ...env, CASES_DIRECTORY: dir, ETL_FILE_STABLE_MS: '0' });
  const started = performance.now();
  const result = await runEtl({ config });
  const seconds = (performance.now() - started) / 1000;
  if (!result.success) throw new Error(`night failed: ${result.errors.join('; ')}`);
  const s = result.stats;
  return {
    seconds,
    status: result.status,
    rejected: s.rejected,
    inserted: s.inserted,
    updated: s.updated,
    deactivated: s.deactivated,
  };
}

const env = { ...process.env };
const year = await schoolNights(schoolDir, join(workDir, 'year'));
const nights = [];
for (let n = 1; n <= NIGHTS; n++) {
  const change = await year.next();
  const r = await night(env, join(workDir, 'year'));
  nights.push({ ...change, ...r, sizeBytes: await sizeOf(env), historyBytes: await historyBytes(env) });
  if (n % 50 === 0)
    process.stderr.write(
      `    night ${n}: ${r.seconds.toFixed(3)} s, ${(nights.at(-1).sizeBytes / 1e6).toFixed(1)} MB\n`,
    );
}

// Side by side: the year's database takes its next nights, in turn with a fresh database's
// night 2 (its night 1 untimed), so a ratio of the two is not the machine's speed drifting.
const pairs = [];
for (let p = 0; p < PAIRS; p++) {
  await year.next();
  const late = await night(env, join(workDir, 'year'));
  const freshEnv = postgres
    ? { ...env, DATABASE_SCHEMA: `${env.DATABASE_SCHEMA}_f${p}` }
    : { ...env, DATABASE_URL: `sqlite:${join(workDir, `fresh-${p}.db`)}` };
  const fresh = await schoolNights(schoolDir, join(workDir, `fresh-${p}`));
  await fresh.next();
  await night(freshEnv, join(workDir, `fresh-${p}`));
  await fresh.next();
  const second = await night(freshEnv, join(workDir, `fresh-${p}`));
  if (postgres) await dropSchema(freshEnv.DATABASE_SCHEMA);
  pairs.push({ night: year.night, late: late.seconds, night2: second.seconds });
}

// PostgreSQL, when asked: the routes an operator's monitoring polls, over a ledger of this
// year's nights for 20 schools (the school's own and 19 copies of it under other numbers).
const http = process.argv[6] === 'http' && postgres ? await routeTimes(env, 20) : null;

const rows = nights.reduce((n, x) => n + x.rows, 0);
console.log(
  JSON.stringify({
    rows,
    seconds: nights.reduce((s, x) => s + x.seconds, 0),
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    nights,
    pairs,
    http,
  }),
);

/**
 * Copies the school's ledger (runs, their files, rejects and kept change history) to `schools - 1`
 * more school numbers, analyses it (autovacuum would), then times each route over real HTTP:
 * REQUESTS requests after a few to warm up, their median and 95th percentile in ms, and the
 * plans of the schools summary's queries.
 */
async function routeTimes(env, schools) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const schema = env.DATABASE_SCHEMA;
  await client.query(`SET search_path TO ${schema}`);
  const columns = async (table) =>
    (
      await client.query(
        'SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position',
        [schema, table],
      )
    ).rows.map((r) => `"${r.column_name}"`);
  const runCols = await columns('etl_runs');
  const fileCols = await columns('etl_run_files');
  const rejectCols = await columns('etl_rejects');
  const changeCols = await columns('etl_changes');
  const except = (cols, ...names) => cols.filter((c) => !names.includes(c));
  const school = (await client.query('SELECT DISTINCT school_id FROM etl_runs')).rows[0].school_id;
  for (let k = 1; k < schools; k++) {
    const offset = k * 10_000_000;
    const other = String(1000 + k);
    const runRest = except(runCols, '"id"', '"school_id"');
    await client.query(
      `INSERT INTO etl_runs ("id", "school_id", ${runRest.join(', ')}) SELECT "id" + ${offset}, '${other}', ${runRest.join(', ')} FROM etl_runs WHERE school_id = $1`,
      [school],
    );
    const mine = `(SELECT id FROM etl_runs WHERE school_id = '${school}')`;
    const fileRest = except(fileCols, '"run_id"');
    await client.query(
      `INSERT INTO etl_run_files ("run_id", ${fileRest.join(', ')}) SELECT "run_id" + ${offset}, ${fileRest.join(', ')} FROM etl_run_files WHERE run_id IN ${mine}`,
    );
    const rejectRest = except(rejectCols, '"id"', '"run_id"');
    await client.query(
      `INSERT INTO etl_rejects ("run_id", ${rejectRest.join(', ')}) SELECT "run_id" + ${offset}, ${rejectRest.join(', ')} FROM etl_rejects WHERE run_id IN ${mine}`,
    );
    const changeRest = except(changeCols, '"id"', '"run_id"', '"school_id"');
    await client.query(
      `INSERT INTO etl_changes ("run_id", "school_id", ${changeRest.join(', ')}) SELECT "run_id" + ${offset}, '${other}', ${changeRest.join(', ')} FROM etl_changes WHERE run_id IN ${mine}`,
    );
  }
  await client.query('ANALYZE etl_runs, etl_run_files, etl_rejects, etl_changes, etl_rollbacks');
  const ledger = (
    await client.query('SELECT count(*)::int AS runs, count(DISTINCT school_id)::int AS schools FROM etl_runs')
  ).rows[0];
  const plans = {};
  for (const [name, sql] of Object.entries(SUMMARY_SQL)) {
    const plan = (await client.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`)).rows[0]['QUERY PLAN'][0];
    plans[name] = { ms: plan['Execution Time'], top: plan.Plan['Node Type'] };
  }
  await client.end();

  const app = await createApp(
    loadConfig(Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('REDIS')))),
    { logger: createLogger({ level: 'silent' }) },
  );
  const server = buildAppServer(app);
  try {
    await server.listen({ host: '127.0.0.1', port: 0 });
    const { port } = server.server.address();
    const routes = {};
    for (const route of ROUTES) {
      const times = [];
      for (let i = 0; i < REQUESTS + 3; i++) {
        const started = performance.now();
        const res = await fetch(`http://127.0.0.1:${port}${route}`);
        await res.arrayBuffer();
        if (!res.ok) throw new Error(`${route}: HTTP ${res.status}`);
        if (i >= 3) times.push(performance.now() - started);
      }
      times.sort((a, b) => a - b);
      routes[route] = {
        medianMs: times[Math.floor(times.length / 2)],
        p95Ms: times[Math.ceil(times.length * 0.95) - 1],
      };
    }
    return { ledger, routes, plans };
  } finally {
    await server.close();
    await app.stop();
  }
}
