// One `cases-etl run` of a source folder through the library, as the CLI does it.
//   node load-run.mjs <source> [force]      (database from DATABASE_URL / DATABASE_SCHEMA)
// Prints one JSON line: { rows, seconds, maxRssMb, busyCores, status, inserted, updated, unchanged }
// (busyCores: the machine's cores busy on average during the run, PostgreSQL's included).
import { loadConfig } from '../../dist/config/index.js';
import { runEtl } from '../../dist/pipeline/index.js';
import { busyCores, cpuSample } from '../lib.mjs';

const [source, force] = process.argv.slice(2);
const config = loadConfig({ ...process.env, CASES_DIRECTORY: source, ETL_FILE_STABLE_MS: '0' });
const cpu = cpuSample();
const started = performance.now();
const result = await runEtl({ config, force: force === 'force', allowShrink: true });
const seconds = (performance.now() - started) / 1000;
const busy = busyCores(cpu, cpuSample());
if (!result.success) throw new Error(`run failed: ${result.errors.join('; ')}`);
const s = result.stats;
console.log(
  JSON.stringify({
    rows: s.records,
    seconds,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    busyCores: busy,
    status: result.status,
    inserted: s.inserted,
    updated: s.updated,
    unchanged: s.unchanged,
  }),
);
