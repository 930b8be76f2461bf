// cases-etl's decode + parse + convert + validate of one ST file, as `validate` does it.
// Prints one JSON line: { rows, rejected, seconds, maxRssMb }.
import { loadBuiltinLayouts } from '../../dist/layouts/index.js';
import { inspectFile } from '../../dist/pipeline/index.js';

const path = process.argv[2];
const layout = loadBuiltinLayouts().get('ST');
const started = performance.now();
const report = await inspectFile({
  name: 'ST_8865.csv',
  path,
  bytes: 0,
  mtimeMs: 0,
  layout,
  table: 'ST',
  tableId: 'ST_8865',
  mode: 'full',
});
const seconds = (performance.now() - started) / 1000;
if (report.error) throw new Error(report.error.message);
console.log(
  JSON.stringify({
    rows: report.records,
    rejected: report.rejectedRows,
    seconds,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  }),
);
