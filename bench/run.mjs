// `npm run bench`: measures cases-etl against baselines taken in the same run, prints a table
// and writes bench/results/latest.json. Every target is a ratio, because these machines are noisy:
// each section runs its baseline and its scenarios in turn, round after round, and a ratio is the
// median over rounds of the two rates measured side by side.
//   BENCH_RUNS=3        runs per scenario (the median is reported; scale-out runs at least 5)
//   BENCH_ROWS=1000000  rows in the large ST file
//   BENCH_ONLY=parse,sqlite,deactivate,postgres,fixed,scaleout   sections to run (default all)
//   BENCH_PG_URL=postgres://postgres@127.0.0.1:5432/test
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { execFileSync } from 'node:child_process';

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
const ONLY = new Set((process.env.BENCH_ONLY ?? 'parse,sqlite,deactivate,postgres,fixed,scaleout').split(','));
const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const fmtRows = ROWS.toLocaleString('en-AU');

const scenarios = [];
const ratios = {};
const targets = {
  parse_validate_vs_raw_parse: { min: 0.8 },
  peak_rss_mb_1m: { max: 300 },
  rss_growth_mb_100k_to_1m: { max: 64 },
  sqlite_first_load_vs_raw_insert: { min: 0.5 },
  sqlite_deactivate_250k_vs_insert: { max: 1.0 },
  sqlite_school_1500_rerun_vs_night: { max: 0.3 },
  sqlite_school_1500_known_lines_vs_night: { max: 0.5 },
  pg_first_load_vs_copy: { min: 0.5 },
  pg_unchanged_rerun_vs_copy: { min: 1.0 },
  pg_known_lines_vs_copy: { min: 1.0 },
  pg_5pct_changed_vs_copy: { min: 0.8 },
  fixed_width_pg_vs_pgloader: { min: 3 },
  two_workers_vs_one: { min: 1.4 },
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
  ratios.sqlite_school_1500_seconds = night.seconds;
  ratios.sqlite_school_1500_rerun_seconds = rerun.seconds;
  ratios.sqlite_school_1500_rerun_vs_night = rerun.seconds / night.seconds;
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
  ratios.pg_school_1500_seconds = night.seconds;
  ratios.pg_rollback_first_load_seconds = undoFirst.seconds;
  ratios.pg_rollback_5pct_changed_seconds = undoChanged.seconds;
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
  const { folder, schools } = await manySchools(20);
  const [one, two] = await rounds(
    [
      fresh('20 schools of 1,500 students, one worker', 'postgres', [], 'scale-out.mjs', [
        '1',
        folder,
        schools.join(','),
      ]),
      fresh('20 schools of 1,500 students, two workers', 'postgres', [], 'scale-out.mjs', [
        '2',
        folder,
        schools.join(','),
      ]),
    ],
    // Short runs on a machine whose speed drifts from minute to minute: more pairs than elsewhere.
    Math.max(RUNS, 5),
  );
  scenarios.push(one, two);
  ratios.two_workers_vs_one = pairedRatio(one, two);
  // What bounds it: the cores one worker already keeps busy (its PostgreSQL backend included).
  ratios.two_workers_cpu_ceiling_vs_one = cpuCeiling(one, one);
  ratios.scaleout_one_worker_busy_cores = one.busyCores;
  ratios.scaleout_two_workers_busy_cores = two.busyCores;
  // And what two workers cost: the machine's CPU time for the same schools, against one worker's.
  ratios.two_workers_cpu_time_vs_one = median(
    two.runs.map((r, i) => (r.seconds * r.busyCores) / (one.runs[i].seconds * one.runs[i].busyCores)),
  );
  await save();
}

if (ratios.peak_rss_mb_1m === undefined && scenarios.length > 1 && ONLY.has('parse')) {
  ratios.peak_rss_mb_1m = scenarios[1].peakRssMb;
  ratios.rss_growth_mb_100k_to_1m = scenarios[1].peakRssMb - scenarios[2].peakRssMb;
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
