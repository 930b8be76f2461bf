// Baseline: papaparse's own streaming parse of the file, counting rows and nothing else.
// Prints one JSON line: { rows, seconds, maxRssMb }.
import { createReadStream } from 'node:fs';

import Papa from 'papaparse';

const path = process.argv[2];
const started = performance.now();
let rows = 0;
await new Promise((resolve, reject) =>
  Papa.parse(createReadStream(path, { encoding: 'latin1' }), {
    step: () => void rows++,
    complete: resolve,
    error: reject,
  }),
);
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ rows: rows - 1, seconds, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
