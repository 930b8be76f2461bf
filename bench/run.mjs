// `npm run bench`: measures cases-etl against baselines taken in the same run, prints a table
// and writes bench/results/latest.json. Every target is a ratio, because these machines are noisy:
// each section runs its baseline and its scenarios in turn, round after round, and a ratio is the
// median over rounds of the two rates measured side by side.
//   BENCH_RUNS=3        runs per scenario (the median is reported; scale-out runs at least 5)
//   BENCH_ROWS=1000000  rows in the large ST file
//   BENCH_ONLY=startup,parse,sqlite,deactivate,postgres,fixed,scaleout,year   sections to run (default all)
//   BENCH_NIGHTS=365    nights in the year section
//   BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/test
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { execFileSync, spawnSync } from 'node:child_process';

import {
  BENCH_DIR,
  changedCopy,
  cpuCeiling,
  DATA_DIR,
  fixedAsCsv,
  fixedStudents,
  median,
  folderWith,
  manySchools,
  pairedRatio,
  pgSchema,
  rounds,
  runScenario,
  scenario,
  school,
  studentsFile,
  withBlankLine,
} from './lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const SMALL = Math.max(1, Math.round(ROWS / 10));
const ONLY = new Set(
  (process.env.BENCH_ONLY ?? 'startup,parse,sqlite,deactivate,postgres,fixed,scaleout,year').split(','),
);
const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const fmtRows = ROWS.toLocaleString('en-AU');

const scenarios = [];
const ratios = {};
// The second round's targets (issue 21); figures that only explain a ratio have none.
const targets = {
  parse_validate_vs_raw_parse: { min: 0.8 },
  peak_rss_mb_1m: { max: 200 },
  rss_growth_mb_100k_to_1m: { max: 40 },
  sqlite_first_load_vs_raw_insert: { min: 0.8 },
  sqlite_deactivate_250k_vs_insert: { max: 1.0 },
  sqlite_unchanged_rerun_vs_first_load: { max: 0.3 },
  sqlite_school_1500_known_lines_vs_night: { max: 0.5 },
  pg_first_load_vs_copy: { min: 0.8 },
  pg_unchanged_rerun_vs_copy: { min: 2.0 },
  pg_known_lines_vs_copy: { min: 1.0 },
  pg_5pct_changed_vs_copy: { min: 1.2 },
  pg_rollback_vs_load: { max: 1.0 },
  fixed_width_pg_vs_pgloader: { min: 4 },
  scaleout_cpu_per_school_two_vs_one: { max: 1.05 },
  year_sqlite_night_365_vs_night_2: { max: 1.1 },
  year_pg_night_365_vs_night_2: { max: 1.1 },
  year_sqlite_growth_vs_changed_bytes: { max: 1.5 },
  year_pg_growth_vs_changed_bytes: { max: 1.5 },
  year_pg_health_ms: { max: 50 },
  year_pg_metrics_ms: { max: 50 },
  year_pg_schools_ms: { max: 50 },
  // Issue 19: 321 built-in layouts must not make the command slow to start.
  cli_version_ms: { max: 300 },
};

/**
 * Writes bench/results/latest.json: called after every section, so a section that fails later
 * does not lose the figures before it. Sections not run this time keep their last figures.
 */
async function save() {
  const resultsPath = join(BENCH_DIR, 'results', 'latest.json');
  const previous = JSON.parse(await readFile(resultsPath, 'utf8').catch(() => '{}'));
  await mkdir(join(BENCH_DIR, 'results'), { recursive: true });
  const result = {
    ...previous,
    date: new Date().toISOString(),
    node: process.version,
    runs: RUNS,
    rows: ROWS,
    ...ratios,
    targets,
    scenarios: [
      ...(previous.scenarios ?? []).filter((p) => !scenarios.some((s) => s.label === p.label)),
      ...scenarios.map(({ runs: _runs, ...r }) => r),
    ],
  };
  await writeFile(resultsPath, `${JSON.stringify(result, null, 2)}\n`);
  return resultsPath;
}

if (ONLY.has('startup')) {
  // Start-up: `cases-etl --version` and `--help` against Node starting and doing nothing, spawned
  // in turns, 15 times each; medians. --help loads the command tree and the configuration schema.
  const cli = join(BENCH_DIR, '..', 'dist', 'cli', 'main.js');
  const spawnMs = (args) => {
    const started = performance.now();
    const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    return performance.now() - started;
  };
  const times = { node: [], version: [], help: [] };
  for (let i = 0; i < 15; i++) {
    times.node.push(spawnMs(['-e', '0']));
    times.version.push(spawnMs([cli, '--version']));
    times.help.push(spawnMs([cli, '--help']));
  }
  ratios.node_startup_ms = median(times.node);
  ratios.cli_version_ms = median(times.version);
  ratios.cli_help_ms = median(times.help);
  ratios.cli_version_vs_node_startup = median(times.version.map((t, i) => t / times.node[i]));
  await save();
}

const big = await studentsFile(ROWS);
const small = await studentsFile(SMALL);
const only = (env = {}) => ({ ETL_REQUIRED_TABLES: 'ST', ETL_MAX_SHRINK: '1', ...env });

if (ONLY.has('parse')) {
  const [raw, parseBig, parseSmall] = await rounds(
    [
      scenario(`papaparse raw parse, ${fmtRows} rows`, 'raw-parse.mjs', [big]),
      scenario(`cases-etl parse + validate, ${fmtRows} rows`, 'parse-validate.mjs', [big]),
      scenario(`cases-etl parse + validate, ${SMALL.toLocaleString('en-AU')} rows`, 'parse-validate.mjs', [small]),
    ],
    RUNS,
  );
  scenarios.push(raw, parseBig, parseSmall);
  ratios.parse_validate_vs_raw_parse = pairedRatio(raw, parseBig);
  await save();
}

const bigFolder = await folderWith(big, 'st-big', 'ST_8865.csv');
const smallFolder = await folderWith(small, 'st-small', 'ST_8865.csv');
const changedFolder = await folderWith(
  await changedCopy(big, join(DATA_DIR, `ST_${ROWS}_changed5pct_v2.csv`), 20),
  'st-big-changed',
  'ST_8865.csv',
);
const school1500 = await school(1500);
// The same rows in other bytes: re-runs of these read every file, and skip rows by line hash.
const school1500Blank = await withBlankLine(school1500, 'school_1500_seed1_blank');
const bigBlankFolder = ONLY.has('postgres') ? await withBlankLine(bigFolder, 'st-big-blank') : bigFolder;

/** Victoria's government schools, and the worker pools the capacity model sizes for them. */
const NETWORK_SCHOOLS = 1550;
const WORKER_MACHINES = [1, 4, 16];
/** Cores of each worker machine (each runs one worker process per core) and of the one PostgreSQL. */
const MACHINE_CORES = 2;
const PG_CORES = [2, 8];

/**
 * What a network of schools would take, from one worker's measured run: per school, the worker's
 * CPU seconds, PostgreSQL's, and the wall time one worker process takes for it (waiting on
 * PostgreSQL included). A worker machine of MACHINE_CORES cores runs that many processes, each a
 * school at a time, so it finishes at most cores / wall schools a second (and never more than its
 * CPU allows); PostgreSQL at most its cores / its CPU seconds per school. The smaller of the two
 * sides is the bottleneck; the wall time for the network follows from it.
 */
function capacityModel(one) {
  const per = (f) => median(one.runs.map((r) => f(r) / r.schools));
  const worker = per((r) => r.workerCpuSeconds);
  const postgres = per((r) => r.pgCpuSeconds);
  const wall = per((r) => r.seconds);
  const sizes = [];
  for (const pgCores of PG_CORES) {
    for (const machines of WORKER_MACHINES) {
      const workerRate = machines * Math.min(MACHINE_CORES / wall, MACHINE_CORES / worker);
      const pgRate = pgCores / postgres;
      const rate = Math.min(workerRate, pgRate);
      sizes.push({
        workerMachines: machines,
        pgCores,
        minutes: NETWORK_SCHOOLS / rate / 60,
        bottleneck: workerRate <= pgRate ? 'workers' : 'PostgreSQL',
      });
    }
  }
  return {
    schools: NETWORK_SCHOOLS,
    perSchool: { workerCpuSeconds: worker, pgCpuSeconds: postgres, oneWorkerWallSeconds: wall },
    assumptions:
      `first-load nights of 1,500-student schools as measured here; ${MACHINE_CORES}-core worker machines, ` +
      `one worker process per core; one PostgreSQL of ${PG_CORES.join(' or ')} cores; no other load`,
    sizes,
  };
}

/**
 * A scenario that needs a fresh database, as a spec for `rounds`: each run gets its own, which
 * `prepare` loads (not timed) before `script` is measured.
 */
function fresh(label, dialect, prepare, script, args, extraEnv = {}) {
  return {
    label,
    once: async () => {
      const db = await freshDb(dialect);
      try {
        for (const p of prepare) await runScenario('load-run.mjs', p, { ...db.env, ...extraEnv });
        return await runScenario(script, args, { ...db.env, ...extraEnv });
      } finally {
        await db.drop();
      }
    },
  };
}

async function freshDb(dialect) {
  if (dialect === 'postgres') return pgSchema(PG_URL);
  const dir = await mkdtemp(join(tmpdir(), 'bench-db-'));
  return {
    env: { DATABASE_URL: `sqlite:${join(dir, 'cases-etl.db')}` },
    drop: () => rm(dir, { recursive: true, force: true }),
  };
}

if (ONLY.has('sqlite')) {
  const [rawInsert, first, firstSmall, night, rerun, knownLines] = await rounds(
    [
      scenario(`better-sqlite3 raw insert loop, ${fmtRows} rows`, 'sqlite-raw-insert.mjs', [big, 'STKEY']),
      fresh(`SQLite first load, ${fmtRows}-row ST`, 'sqlite', [], 'load-run.mjs', [bigFolder], only()),
      fresh(
        `SQLite first load, ${SMALL.toLocaleString('en-AU')}-row ST`,
        'sqlite',
        [],
        'load-run.mjs',
        [smallFolder],
        only(),
      ),
      fresh('SQLite 1,500-student school, full night', 'sqlite', [], 'load-run.mjs', [school1500]),
      fresh('SQLite 1,500-student school, unchanged re-run', 'sqlite', [[school1500]], 'load-run.mjs', [
        school1500,
        'force',
      ]),
      fresh('SQLite 1,500-student school, unchanged rows in new bytes', 'sqlite', [[school1500]], 'load-run.mjs', [
        school1500Blank,
      ]),
    ],
    RUNS,
  );
  scenarios.push(rawInsert, first, firstSmall, night, rerun, knownLines);
  ratios.sqlite_first_load_vs_raw_insert = pairedRatio(rawInsert, first);
  // SQLite writes on the thread that parses: one core of two, so this is the most overlap could give.
  ratios.sqlite_first_load_cpu_ceiling_vs_raw_insert = cpuCeiling(rawInsert, first);
  ratios.sqlite_first_load_busy_cores = first.busyCores;
  ratios.sqlite_school_1500_seconds = night.seconds;
  ratios.sqlite_school_1500_rerun_seconds = rerun.seconds;
  ratios.sqlite_school_1500_rerun_vs_night = undefined; // the first round's name of the ratio above
  // A time ratio (lower is better), paired round by round.
  ratios.sqlite_unchanged_rerun_vs_first_load = median(rerun.runs.map((r, i) => r.seconds / night.runs[i].seconds));
  ratios.sqlite_school_1500_known_lines_vs_night = knownLines.seconds / night.seconds;
  ratios.sqlite_peak_rss_mb_1m = first.peakRssMb;
  ratios.sqlite_rss_growth_mb = first.peakRssMb - firstSmall.peakRssMb;
  await save();
}

if (ONLY.has('deactivate')) {
  // A full night that drops every one of 250,000 students (a header-only ST, published with
  // --allow-shrink), against the first load that inserted them: both in the same fresh database.
  const GONE_ROWS = 250_000;
  const many = await folderWith(await studentsFile(GONE_ROWS), 'st-250k', 'ST_8865.csv');
  const { readFile: read } = await import('node:fs/promises');
  const header = (await read(join(many, 'ST_8865.csv'), 'latin1')).split('\n', 1)[0];
  const emptyDir = join(DATA_DIR, 'st-250k-gone');
  await rm(emptyDir, { recursive: true, force: true });
  await mkdir(emptyDir, { recursive: true });
  await writeFile(join(emptyDir, 'ST_8865.csv'), `${header}\n`, 'latin1');
  const [insert, gone] = await rounds(
    [
      fresh('SQLite first load, 250,000-row ST', 'sqlite', [], 'load-run.mjs', [many], only()),
      fresh('SQLite full night deactivating 250,000 rows', 'sqlite', [[many]], 'load-run.mjs', [emptyDir], only()),
    ],
    RUNS,
  );
  scenarios.push(insert, gone);
  // A time ratio (lower is better): rows/s would count the header-only file's zero rows.
  ratios.sqlite_deactivate_250k_vs_insert = median(gone.runs.map((r, i) => r.seconds / insert.runs[i].seconds));
  await save();
}

if (ONLY.has('postgres')) {
  const [copy, first, firstSmall, rerun, knownLines, changed, night, undoFirst, undoChanged] = await rounds(
    [
      scenario(`psql \\copy into a table with the key, ${fmtRows} rows`, 'psql-copy.mjs', [big, PG_URL, 'STKEY']),
      fresh(`PostgreSQL first load, ${fmtRows}-row ST`, 'postgres', [], 'load-run.mjs', [bigFolder], only()),
      fresh(
        `PostgreSQL first load, ${SMALL.toLocaleString('en-AU')}-row ST`,
        'postgres',
        [],
        'load-run.mjs',
        [smallFolder],
        only(),
      ),
      fresh(
        `PostgreSQL unchanged re-run, ${fmtRows}-row ST`,
        'postgres',
        [[bigFolder]],
        'load-run.mjs',
        [bigFolder, 'force'],
        only(),
      ),
      fresh(
        `PostgreSQL unchanged rows in new bytes, ${fmtRows}-row ST`,
        'postgres',
        [[bigFolder]],
        'load-run.mjs',
        [bigBlankFolder],
        only(),
      ),
      fresh(
        `PostgreSQL 5% changed, ${fmtRows}-row ST`,
        'postgres',
        [[bigFolder]],
        'load-run.mjs',
        [changedFolder],
        only(),
      ),
      fresh('PostgreSQL 1,500-student school, full night', 'postgres', [], 'load-run.mjs', [school1500]),
      // A slow load is also a slow way back: undoing the first load deletes every row it inserted,
      // undoing the changed night writes every changed row's old values back.
      fresh(
        `PostgreSQL rollback of the first load, ${fmtRows}-row ST`,
        'postgres',
        [[bigFolder]],
        'rollback-run.mjs',
        [],
        only(),
      ),
      fresh(
        `PostgreSQL rollback of the 5% changed night, ${fmtRows}-row ST`,
        'postgres',
        [[bigFolder], [changedFolder]],
        'rollback-run.mjs',
        [],
        only(),
      ),
    ],
    RUNS,
  );
  scenarios.push(copy, first, firstSmall, rerun, knownLines, changed, night, undoFirst, undoChanged);
  ratios.pg_first_load_vs_copy = pairedRatio(copy, first);
  ratios.pg_unchanged_rerun_vs_copy = pairedRatio(copy, rerun);
  ratios.pg_known_lines_vs_copy = pairedRatio(copy, knownLines);
  ratios.pg_5pct_changed_vs_copy = pairedRatio(copy, changed);
  // What bounds them: the ratio each could reach with the machine's CPU time for it spread over
  // every core, none idle (PostgreSQL's backends included).
  ratios.pg_first_load_cpu_ceiling_vs_copy = cpuCeiling(copy, first);
  ratios.pg_5pct_changed_cpu_ceiling_vs_copy = cpuCeiling(copy, changed);
  ratios.pg_first_load_busy_cores = first.busyCores;
  ratios.pg_school_1500_seconds = night.seconds;
  ratios.pg_rollback_first_load_seconds = undoFirst.seconds;
  ratios.pg_rollback_5pct_changed_seconds = undoChanged.seconds;
  // Each way back against the load it undoes, in the same round; the worse of the two.
  ratios.pg_rollback_vs_load = median(
    undoFirst.runs.map((r, i) =>
      Math.max(r.seconds / first.runs[i].seconds, undoChanged.runs[i].seconds / changed.runs[i].seconds),
    ),
  );
  ratios.peak_rss_mb_1m = Math.max(ratios.peak_rss_mb_1m ?? 0, first.peakRssMb);
  ratios.rss_growth_mb_100k_to_1m = first.peakRssMb - firstSmall.peakRssMb;
  await save();
}
if (ONLY.has('fixed')) {
  let pgloader = true;
  try {
    execFileSync('pgloader', ['--version'], { stdio: 'ignore' });
  } catch {
    pgloader = false;
  }
  if (!pgloader) {
    console.error('pgloader is not installed (apt-get install -y pgloader): fixed_width_pg_vs_pgloader is skipped');
    // An earlier run's figure would not be of this code: it goes, and the skip is recorded.
    ratios.fixed_width_pg_vs_pgloader = undefined;
    ratios.fixed_width_pg_vs_pgloader_skipped = 'pgloader missing';
    await save();
  } else {
    const fixed = await fixedStudents(ROWS);
    const fixedCsv = await fixedAsCsv(fixed);
    const [loader, copy, ours] = await rounds(
      [
        scenario(`pgloader, fixed-width STUDENT.DAT, ${fmtRows} rows`, 'pgloader-fixed.mjs', [
          fixed.file,
          fixed.relationships,
          PG_URL,
        ]),
        scenario(`psql \\copy of STUDENT.DAT's rows as CSV, ${fmtRows} rows`, 'psql-copy.mjs', [
          fixedCsv,
          PG_URL,
          'CASES_KEY',
        ]),
        fresh(
          `PostgreSQL first load, fixed-width STUDENT.DAT, ${fmtRows} rows`,
          'postgres',
          [],
          'load-run.mjs',
          [fixed.folder],
          { CASES_RELATIONSHIPS_JSON: fixed.relationships, CASES_SCHOOL_ID: '8865' },
        ),
      ],
      RUNS,
    );
    scenarios.push(loader, copy, ours);
    ratios.fixed_width_pg_vs_pgloader = pairedRatio(loader, ours);
    // What bounds it: PostgreSQL's own COPY of the same rows, and our load's CPU on every core.
    ratios.fixed_width_copy_vs_pgloader = pairedRatio(loader, copy);
    ratios.fixed_width_cpu_ceiling_vs_pgloader = cpuCeiling(loader, ours);
    ratios.fixed_width_busy_cores = ours.busyCores;
    ratios.fixed_width_pg_vs_pgloader_skipped = undefined;
    await save();
  }
}

if (ONLY.has('scaleout')) {
  // 20 timed schools, and 4 more each run loads first, untimed, to start its workers up.
  const { folder, schools: all } = await manySchools(24);
  const schools = all.slice(0, 20);
  const warmups = all.slice(20).join(',');
  const [one, two] = await rounds(
    [
      fresh('20 schools of 1,500 students, one worker', 'postgres', [], 'scale-out.mjs', [
        '1',
        folder,
        schools.join(','),
        warmups,
      ]),
      fresh('20 schools of 1,500 students, two workers', 'postgres', [], 'scale-out.mjs', [
        '2',
        folder,
        schools.join(','),
        warmups,
      ]),
    ],
    // Short runs on a machine whose speed drifts from minute to minute: more pairs than elsewhere.
    Math.max(RUNS, 5),
  );
  scenarios.push(one, two);
  // What a school costs in CPU (the workers' and PostgreSQL's), by the number of workers: what
  // scales out is what does not grow per school as workers are added.
  const perSchool = (r) => (r.workerCpuSeconds + r.pgCpuSeconds) / r.schools;
  ratios.scaleout_cpu_seconds_per_school_one = median(one.runs.map(perSchool));
  ratios.scaleout_cpu_seconds_per_school_two = median(two.runs.map(perSchool));
  ratios.scaleout_cpu_per_school_two_vs_one = median(two.runs.map((r, i) => perSchool(r) / perSchool(one.runs[i])));
  ratios.two_workers_vs_one = pairedRatio(one, two);
  ratios.scaleout_one_worker_busy_cores = one.busyCores;
  ratios.scaleout_two_workers_busy_cores = two.busyCores;
  // Figures of the first round's target, which this machine's two cores bounded: gone.
  ratios.two_workers_cpu_ceiling_vs_one = undefined;
  ratios.two_workers_cpu_time_vs_one = undefined;
  ratios.capacity_model = capacityModel(one);
  await save();
}

if (ratios.peak_rss_mb_1m === undefined && scenarios.length > 1 && ONLY.has('parse')) {
  ratios.peak_rss_mb_1m = scenarios[1].peakRssMb;
  ratios.rss_growth_mb_100k_to_1m = scenarios[1].peakRssMb - scenarios[2].peakRssMb;
}

if (ONLY.has('year')) {
  // One school, night after night (bench/nights.mjs): each database's year in one process, then
  // nights past the year side by side with a fresh database's night 2.
  const NIGHTS = Number(process.env.BENCH_NIGHTS ?? 365);
  // Pairs of a night past the year and a fresh night 2: a night is a tenth of a second on SQLite,
  // so the median of five pairs moved by 0.05 between two runs of the same code; eleven hold still.
  const YEAR_PAIRS = 11;
  const base = await school(1500);
  for (const [dialect, key, name] of [
    ['sqlite', 'sqlite', 'SQLite'],
    ['postgres', 'pg', 'PostgreSQL'],
  ]) {
    const db = await freshDb(dialect);
    const work = await mkdtemp(join(tmpdir(), 'bench-year-'));
    try {
      const r = await runScenario(
        'year-of-nights.mjs',
        [String(NIGHTS), base, work, String(YEAR_PAIRS), dialect === 'postgres' ? 'http' : ''],
        db.env,
      );
      const at = (n) => r.nights[Math.min(n, r.nights.length) - 1];
      // A night's time: the median of the five nights ending with it (one night is a few hundred ms).
      const around = (n) => median(r.nights.slice(Math.max(1, n - 5), n).map((x) => x.seconds));
      const changed = r.nights.slice(2).reduce((b, x) => b + x.changedBytes, 0);
      scenarios.push({
        label: `${name}, a year of nights (${NIGHTS}) of a 1,500-student school`,
        rows: r.rows,
        seconds: r.seconds,
        rowsPerSecond: r.rows / r.seconds,
        peakRssMb: r.maxRssMb,
      });
      for (const n of [2, 100, NIGHTS]) {
        ratios[`year_${key}_night_${n}_seconds`] = n === 2 ? at(2).seconds : around(n);
        ratios[`year_${key}_size_mb_night_${n}`] = at(n).sizeBytes / 1e6;
      }
      ratios[`year_${key}_night_365_vs_night_2`] = median(r.pairs.map((p) => p.late / p.night2));
      ratios[`year_${key}_growth_vs_changed_bytes`] = (at(NIGHTS).sizeBytes - at(2).sizeBytes) / changed;
      ratios[`year_${key}_changed_rows_per_night`] = median(r.nights.slice(1).map((x) => x.changedRows / x.rows));
      // The compact history: a run's changes move there as it leaves the rollback window, from
      // night ETL_SNAPSHOT_RETENTION + 1 on, which takes the first load (an entry per row, once).
      // Per night: its growth from then on, over the nights it took. Night 1's size is the empty
      // table's (its first pages).
      const empty = r.nights[0].historyBytes;
      const compacting = r.nights.findIndex((x) => x.historyBytes > empty);
      if (compacting >= 0 && compacting < r.nights.length - 1) {
        const first = r.nights[compacting].historyBytes;
        ratios[`year_${key}_history_first_load_mb`] = (first - empty) / 1e6;
        ratios[`year_${key}_history_bytes_per_night`] =
          (r.nights.at(-1).historyBytes - first) / (r.nights.length - 1 - compacting);
      }
      if (r.http) {
        ratios.year_pg_ledger_runs = r.http.ledger.runs;
        ratios.year_pg_health_ms = r.http.routes['/api/cases-etl/health'].p95Ms;
        ratios.year_pg_metrics_ms = r.http.routes['/metrics'].p95Ms;
        ratios.year_pg_schools_ms = r.http.routes['/api/cases-etl/schools'].p95Ms;
        ratios.year_pg_dashboard_page_ms = r.http.routes['/dashboard'].p95Ms;
        ratios.year_pg_summary_plans = r.http.plans;
      }
    } finally {
      await db.drop();
      await rm(work, { recursive: true, force: true });
    }
    await save();
  }
}

if (ratios.capacity_model) {
  const m = ratios.capacity_model;
  const f = (x) => x.toFixed(3);
  console.log(
    `\nCapacity model for ${m.schools.toLocaleString('en-AU')} schools (${m.assumptions}):\n` +
      `  per school: worker ${f(m.perSchool.workerCpuSeconds)} CPU s, PostgreSQL ${f(m.perSchool.pgCpuSeconds)} CPU s, ` +
      `${f(m.perSchool.oneWorkerWallSeconds)} s on one worker`,
  );
  for (const s of m.sizes)
    console.log(
      `  ${String(s.workerMachines).padStart(2)} worker machines, PostgreSQL on ${s.pgCores} cores: ${s.minutes.toFixed(1).padStart(6)} min (bottleneck: ${s.bottleneck})`,
    );
}

const fmt = (n) => Math.round(n).toLocaleString('en-AU');
console.log('\nScenario                                                      rows/s    seconds  peak RSS MB');
for (const r of scenarios)
  console.log(
    `${r.label.padEnd(58)} ${fmt(r.rowsPerSecond).padStart(9)} ${r.seconds.toFixed(2).padStart(10)} ${r.peakRssMb.toFixed(0).padStart(12)}`,
  );
console.log('\nRatio                                  value   target   met');
for (const [key, value] of Object.entries(ratios)) {
  // A key set to undefined is one this run cleared (a skip that no longer applies).
  if (value === undefined) continue;
  if (typeof value === 'object') continue;
  if (typeof value !== 'number') {
    console.log(`${key.padEnd(36)} ${value}`);
    continue;
  }
  const t = targets[key];
  const met = !t ? '' : (t.min !== undefined ? value >= t.min : value <= t.max) ? 'yes' : 'NO';
  const target = !t ? '' : t.min !== undefined ? `>= ${t.min}` : `<= ${t.max}`;
  console.log(`${key.padEnd(36)} ${value.toFixed(2).padStart(8)}   ${target.padEnd(7)}  ${met}`);
}

console.log(`\nwrote ${await save()}`);
