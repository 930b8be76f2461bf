// Baseline: a bare better-sqlite3 prepared-insert loop of the same, already-parsed rows in one
// transaction. The file is parsed in slices outside the clock; only the inserts are timed.
//   node sqlite-raw-insert.mjs <csv> <key-column>
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import Database from 'better-sqlite3';
import Papa from 'papaparse';

const [csv, key] = process.argv.slice(2);
const dir = mkdtempSync(join(tmpdir(), 'bench-sqlite-'));
const db = new Database(join(dir, 'raw.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
let insert;
let header;
let seconds = 0;
let rows = 0;
const flush = (batch) => {
  const started = performance.now();
  for (const r of batch) insert.run(r);
  seconds += (performance.now() - started) / 1000;
  rows += batch.length;
};
db.exec('BEGIN');
let batch = [];
const parser = new Papa.Parser({
  newline: '\n',
  step: (res) => {
    const row = res.data[0];
    if (!header) {
      header = row.map((c) => c.toLowerCase());
      db.exec(`CREATE TABLE t (${header.map((c) => `"${c}" TEXT`).join(', ')}, PRIMARY KEY ("${key.toLowerCase()}"))`);
      insert = db.prepare(`INSERT INTO t VALUES (${header.map(() => '?').join(', ')})`);
      return;
    }
    if (row.length === header.length) batch.push(row.map((v) => (v === '' ? null : v)));
  },
});
let rest = '';
for await (const buf of createReadStream(csv, { highWaterMark: 1 << 16 })) {
  const text = rest + buf.toString('latin1').replace(/\r\n?/g, '\n');
  const res = parser.parse(text, 0, true);
  rest = text.slice(res.meta.cursor);
  flush(batch);
  batch = [];
}
new Papa.Parser({
  newline: '\n',
  step: (res) => res.data[0].length === header.length && batch.push(res.data[0]),
}).parse(rest, 0, false);
flush(batch);
const started = performance.now();
db.exec('COMMIT');
seconds += (performance.now() - started) / 1000;
db.close();
rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify({ rows, seconds, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
