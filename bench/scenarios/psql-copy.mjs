// Baseline: `psql \copy` of the same CSV into a table with the same primary key.
//   node psql-copy.mjs <csv> <postgres-url> <key-column>
// Prints one JSON line: { rows, seconds, maxRssMb } (maxRssMb is this wrapper's, not psql's).
import { execFileSync } from 'node:child_process';
import { openSync, readSync, closeSync } from 'node:fs';

const [csv, url, key] = process.argv.slice(2);
const fd = openSync(csv, 'r');
const head = Buffer.alloc(64 * 1024);
readSync(fd, head, 0, head.length, 0);
closeSync(fd);
const columns = head.toString('latin1').split(/\r?\n/)[0].split(',');
const table = `bench_copy_${process.pid}`;
const psql = (sql) => execFileSync('psql', [url, '-v', 'ON_ERROR_STOP=1', '-q', '-c', sql], { encoding: 'utf8' });
psql(
  `CREATE TABLE ${table} (${columns.map((c) => `"${c.toLowerCase()}" text`).join(', ')}, PRIMARY KEY ("${key.toLowerCase()}"))`,
);
try {
  const started = performance.now();
  const out = psql(`\\copy ${table} FROM '${csv}' WITH (FORMAT csv, HEADER true, ENCODING 'WIN1252')`);
  const seconds = (performance.now() - started) / 1000;
  const rows = Number(psql(`SELECT count(*) FROM ${table}`).match(/\d+/)?.[0] ?? 0);
  void out;
  console.log(JSON.stringify({ rows, seconds, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
} finally {
  psql(`DROP TABLE IF EXISTS ${table}`);
}
