// `npm run bench`: measures cases-etl against baselines taken in the same run, prints a table
// and writes bench/results/latest.json. Every target is a ratio, because these machines are noisy.
//   BENCH_RUNS=3       runs per scenario (median is reported)
//   BENCH_ROWS=1000000 rows in the large ST file
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { BENCH_DIR, measure, studentsFile } from './lib.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const SMALL = Math.max(1, Math.round(ROWS / 10));

const big = await studentsFile(ROWS);
const small = await studentsFile(SMALL);

const rawParse = await measure(`papaparse raw parse, ${ROWS.toLocaleString('en-AU')} rows`, 'raw-parse.mjs', [big], RUNS);
const parseBig = await measure(`cases-etl parse + validate, ${ROWS.toLocaleString('en-AU')} rows`, 'parse-validate.mjs', [big], RUNS);
const parseSmall = await measure(`cases-etl parse + validate, ${SMALL.toLocaleString('en-AU')} rows`, 'parse-validate.mjs', [small], RUNS);

const ratios = {
  parse_validate_vs_raw_parse: parseBig.rowsPerSecond / rawParse.rowsPerSecond,
  peak_rss_mb_1m: parseBig.peakRssMb,
  rss_growth_mb_100k_to_1m: parseBig.peakRssMb - parseSmall.peakRssMb,
};
const targets = {
  parse_validate_vs_raw_parse: { min: 0.8 },
  peak_rss_mb_1m: { max: 300 },
  rss_growth_mb_100k_to_1m: { max: 64 },
};

const rows = [rawParse, parseBig, parseSmall];
const fmt = (n) => Math.round(n).toLocaleString('en-AU');
console.log('\nScenario                                              rows/s    seconds  peak RSS MB');
for (const r of rows) console.log(`${r.label.padEnd(50)} ${fmt(r.rowsPerSecond).padStart(9)} ${r.seconds.toFixed(2).padStart(10)} ${r.peakRssMb.toFixed(0).padStart(12)}`);
console.log('\nRatio                             value   target   met');
for (const [key, value] of Object.entries(ratios)) {
  const t = targets[key];
  const met = t.min !== undefined ? value >= t.min : value <= t.max;
  const target = t.min !== undefined ? `>= ${t.min}` : `<= ${t.max}`;
  console.log(`${key.padEnd(32)} ${value.toFixed(2).padStart(7)}   ${target.padEnd(7)}  ${met ? 'yes' : 'NO'}`);
}

await mkdir(join(BENCH_DIR, 'results'), { recursive: true });
const result = {
  date: new Date().toISOString(),
  node: process.version,
  runs: RUNS,
  rows: ROWS,
  ...ratios,
  targets,
  scenarios: rows.map(({ runs: _runs, ...r }) => r),
};
await writeFile(join(BENCH_DIR, 'results', 'latest.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log(`\nwrote ${join(BENCH_DIR, 'results', 'latest.json')}`);
