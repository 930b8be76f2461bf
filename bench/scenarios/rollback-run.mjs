// Undoing the newest published run, as `cases-etl rollback <runId>` does it.
//   node rollback-run.mjs      (database from DATABASE_URL / DATABASE_SCHEMA, already loaded)
// Prints one JSON line: { rows, seconds, maxRssMb, deleted, restored } (rows = deleted + restored).
import { loadConfig } from '../../dist/config/index.js';
import { rollbackRun } from '../../dist/pipeline/index.js';
import { createStore } from '../../dist/store/index.js';

const config = loadConfig(process.env);
const store = await createStore(config.database, { lockTimeoutMs: config.lockTimeoutMs });
const [newest] = await store.listRuns({ limit: 1 });
await store.close();
if (!newest || !['succeeded', 'warning'].includes(newest.status))
  throw new Error(`no published run to undo (newest: ${newest?.status ?? 'none'})`);
const started = performance.now();
const result = await rollbackRun(newest.id, { config, reason: 'benchmark' });
const seconds = (performance.now() - started) / 1000;
const { rowsDeleted: deleted, rowsRestored: restored } = result;
console.log(
  JSON.stringify({
    rows: deleted + restored,
    seconds,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    deleted,
    restored,
  }),
);
