// Measures the CSV parser candidates on the same generated ST file (docs/csv-parser.md):
//   node bench/csv-candidates.mjs [rows]
// Each parser streams the file and counts records; the correctness checks run on a small
// hand-made file with the cases eduHub exports contain.
import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { parse as csvParse } from 'csv-parse';
import Papa from 'papaparse';

import { DATA_DIR, studentsFile } from './lib.mjs';

const rows = Number(process.argv[2] ?? 200_000);
const path = await studentsFile(rows);

async function time(name, fn) {
  const started = performance.now();
  const n = await fn();
  const s = (performance.now() - started) / 1000;
  console.log(
    `${name.padEnd(34)} ${Math.round(n / s)
      .toLocaleString('en-AU')
      .padStart(9)} rows/s`,
  );
}

const papaStream = (p) =>
  new Promise((resolve, reject) => {
    let n = 0;
    Papa.parse(createReadStream(p, { encoding: 'latin1' }), {
      step: () => void n++,
      complete: () => resolve(n),
      error: reject,
    });
  });
const csvParseStream = async (p, options) => {
  let n = 0;
  for await (const _ of createReadStream(p).pipe(csvParse(options))) n++;
  return n;
};

console.log(`${rows.toLocaleString('en-AU')}-row ST file (${path})`);
await time('papaparse (stream, step)', () => papaStream(path));
await time('csv-parse', () => csvParseStream(path, {}));
await time('csv-parse (info + raw)', () => csvParseStream(path, { info: true, raw: true }));

// Correctness: quotes, doubled quotes, commas and CRLF inside quotes, an empty last field,
// and a malformed quote that must be reported rather than silently absorbed.
const sample = 'A,B,C\r\n1,"x, ""y""",z\r\n2,"line\r\nbreak",\r\n3,"bad"quote,w\r\n4,ok,end';
const samplePath = join(DATA_DIR, 'csv-sample.csv');
await writeFile(samplePath, sample);
const papa = Papa.parse(sample, { newline: '\r\n' });
console.log(
  '\npapaparse records:',
  JSON.stringify(papa.data),
  'errors:',
  papa.errors.map((e) => `${e.code}@row${e.row}`).join(', '),
);
const records = [];
const errors = [];
await new Promise((resolve) => {
  const parser = csvParse({ relax_quotes: false });
  parser
    .on('data', (r) => records.push(r))
    .on('error', (e) => {
      errors.push(e.code);
      resolve();
    })
    .on('end', resolve);
  Readable.from([sample]).pipe(parser);
});
console.log('csv-parse records:', JSON.stringify(records), 'errors:', errors.join(', '));
