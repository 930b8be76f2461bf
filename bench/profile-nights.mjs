// Where a late night's time goes, against a fresh database's night 2 (the year section's pair),
// on SQLite: every better-sqlite3 statement timed by its SQL, and the main thread's CPU profile
// by function (self time), each averaged over the pairs.
//   npm run build && node bench/profile-nights.mjs [nights] [pairs] [out folder]
// Defaults: 365 nights, 15 pairs, bench/results/profile-nights. Writes late-sql.txt,
// fresh-sql.txt, late-cpu.txt and fresh-cpu.txt there and prints the medians.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import BetterSqlite3 from 'better-sqlite3';

import { loadConfig } from '../dist/config/index.js';
import { runEtl } from '../dist/pipeline/index.js';
import { school } from './lib.mjs';
import { schoolNights } from './nights.mjs';

const NIGHTS = Number(process.argv[2] ?? 365);
const PAIRS = Number(process.argv[3] ?? 15);
const OUT = process.argv[4] ?? new URL('./results/profile-nights', import.meta.url).pathname;

// Statement times, by SQL, while `times` is set (better-sqlite3's prototypes are shared by every connection).
let times = null;
const probe = new BetterSqlite3(':memory:');
const timed = (proto, method, name) => {
  const original = proto[method];
  proto[method] = function (...args) {
    if (times === null) return original.apply(this, args);
    const started = performance.now();
    try {
      return original.apply(this, args);
    } finally {
      const sql = (name(this, args) ?? '').replace(/\s+/g, ' ').slice(0, 100);
      const t = (times[sql] ??= { ms: 0, calls: 0 });
      t.ms += performance.now() - started;
      t.calls++;
    }
  };
};
const statement = Object.getPrototypeOf(probe.prepare('SELECT 1'));
for (const method of ['run', 'get', 'all', 'iterate']) timed(statement, method, (st) => st.source);
timed(Object.getPrototypeOf(probe), 'exec', (_, [sql]) => `exec: ${sql}`);

async function night(env, dir) {
  const config = loadConfig({ ...env, CASES_DIRECTORY: dir, ETL_FILE_STABLE_MS: '0', LOG_LEVEL: 'silent' });
  const started = performance.now();
  const result = await runEtl({ config });
  if (!result.success) throw new Error(`night failed: ${result.errors.join('; ')}`);
  return performance.now() - started;
}

/**
 * Self time per function over `profiles`, ms per night. Left out: the inspector's own `dispatch`
 * (the profiler answering), idle time, and this script's statement timing.
 */
function bySelf(profiles) {
  const self = new Map();
  for (const p of profiles) {
    const nodes = new Map(p.nodes.map((n) => [n.id, n]));
    for (let i = 0; i < p.samples.length; i++) {
      const f = nodes.get(p.samples[i]).callFrame;
      if (f.url.endsWith('profile-nights.mjs') || (f.url === '' && ['dispatch', '(idle)'].includes(f.functionName)))
        continue;
      const name = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}`;
      self.set(name, (self.get(name) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
    }
  }
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 40)
    .map(([name, ms]) => `${(ms / profiles.length).toFixed(2).padStart(8)} ms  ${name}`)
    .join('\n');
}

const bySql = (t) =>
  Object.entries(t)
    .sort((a, b) => b[1].ms - a[1].ms)
    .slice(0, 40)
    .map(
      ([sql, v]) => `${(v.ms / PAIRS).toFixed(2).padStart(8)} ms ${(v.calls / PAIRS).toFixed(1).padStart(7)}×  ${sql}`,
    )
    .join('\n');

const work = await mkdtemp(join(tmpdir(), 'profile-nights-'));
try {
  const base = await school(1500);
  const env = { ...process.env, DATABASE_URL: `sqlite:${join(work, 'year.db')}` };
  const year = await schoolNights(base, join(work, 'year'));
  for (let n = 1; n <= NIGHTS; n++) {
    await year.next();
    await night(env, join(work, 'year'));
  }
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  const sides = { late: { ms: [], sql: {}, cpu: [] }, fresh: { ms: [], sql: {}, cpu: [] } };
  const measured = async (side, env, dir) => {
    times = side.sql;
    await session.post('Profiler.start');
    side.ms.push(await night(env, dir));
    side.cpu.push((await session.post('Profiler.stop')).profile);
    times = null;
  };
  for (let p = 0; p < PAIRS; p++) {
    await year.next();
    await measured(sides.late, env, join(work, 'year'));
    const freshEnv = { ...env, DATABASE_URL: `sqlite:${join(work, `fresh-${p}.db`)}` };
    const fresh = await schoolNights(base, join(work, `fresh-${p}`));
    await fresh.next();
    await night(freshEnv, join(work, `fresh-${p}`));
    await fresh.next();
    await measured(sides.fresh, freshEnv, join(work, `fresh-${p}`));
  }
  await mkdir(OUT, { recursive: true });
  for (const [name, side] of Object.entries(sides)) {
    await writeFile(join(OUT, `${name}-sql.txt`), `${bySql(side.sql)}\n`);
    await writeFile(join(OUT, `${name}-cpu.txt`), `${bySelf(side.cpu)}\n`);
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const ratios = sides.late.ms.map((late, i) => late / sides.fresh.ms[i]);
  console.log(
    JSON.stringify({
      nights: NIGHTS,
      pairs: PAIRS,
      lateMs: median(sides.late.ms),
      freshMs: median(sides.fresh.ms),
      lateVsFresh: median(ratios),
      out: OUT,
    }),
  );
} finally {
  await rm(work, { recursive: true, force: true });
}
