// What handing parsed rows from a worker thread to the main thread costs the main thread, against
// parsing them on it (bench/README.md, "Not met": the overlap that issue 21 asks to measure).
// `node bench/worker-transfer.mjs [inline|pg|sqlite-arrays|sqlite-joined] [file]` after
// `npm run build` and `npm run bench` (for the million-row file). Prints the wall time and the
// main thread's own CPU seconds, read from /proc (the worker's are not counted).
import { readFileSync } from 'node:fs';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

import { loadBuiltinLayouts } from '../dist/layouts/index.js';
import { createRowHasher } from '../dist/load/index.js';
import { mirrorColumnName } from '../dist/schema/index.js';
import { createValidatedFileReader } from '../dist/validate/index.js';

const threadId = () => Number(readFileSync('/proc/thread-self/stat', 'utf8').split(' ')[0]);
const cpuSeconds = (tid) => {
  const f = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};

/** The rows as the pipeline stages them (pipeline/load-file.ts): key, values, row hash, line hash, CSV slice. */
async function* staged(path) {
  const layout = loadBuiltinLayouts().get('ST');
  const file = {
    name: 'ST_8865.csv',
    path,
    bytes: 0,
    mtimeMs: 0,
    layout,
    table: 'ST',
    tableId: 'ST_8865',
    mode: 'full',
  };
  const reader = createValidatedFileReader(file, { csv: true });
  let hasher;
  for await (const b of reader.batches()) {
    hasher ??= createRowHasher(b.columns.columns.map((c) => mirrorColumnName(c.name)));
    yield b.rows.map((r) => ({
      key: r.key,
      values: r.values,
      hash: hasher.hash(r.values),
      line: r.lineHash,
      csv: r.csv,
    }));
  }
}

if (!isMainThread) {
  const { mode, path } = workerData;
  for await (const rows of staged(path)) {
    const keys = rows.map((r) => r.key);
    const hashes = rows.map((r) => r.hash);
    // What PostgreSQL's COPY needs of a row, what SQLite's insert needs (its values), as arrays or one string.
    if (mode === 'pg')
      parentPort.postMessage({ keys, hashes, lines: rows.map((r) => r.line), csv: rows.map((r) => r.csv) });
    else if (mode === 'sqlite-arrays') parentPort.postMessage({ keys, hashes, values: rows.map((r) => r.values) });
    else {
      const joined = rows.map((r) => r.values.map((v) => v ?? '\u0000').join('\u001f')).join('\u001e');
      parentPort.postMessage({ keys, hashes, joined });
    }
  }
  parentPort.postMessage(null);
} else {
  const mode = process.argv[2] ?? 'pg';
  const path = process.argv[3] ?? new URL('./data/ST_1000000_seed1.csv', import.meta.url).pathname;
  const main = threadId();
  const started = performance.now();
  const cpu0 = cpuSeconds(main);
  let rows = 0;
  if (mode === 'inline') for await (const batch of staged(path)) rows += batch.length;
  else {
    const worker = new Worker(new URL(import.meta.url), { workerData: { mode, path } });
    await new Promise((resolve, reject) => {
      worker.on('error', reject);
      worker.on('message', (m) => {
        if (m === null) return resolve();
        if (m.joined) for (const line of m.joined.split('\u001e')) rows += line.split('\u001f').length > 0 ? 1 : 0;
        else rows += m.keys.length;
      });
    });
    await worker.terminate();
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    JSON.stringify({ mode, rows, seconds: +seconds.toFixed(2), mainCpuSeconds: +(cpuSeconds(main) - cpu0).toFixed(2) }),
  );
}
