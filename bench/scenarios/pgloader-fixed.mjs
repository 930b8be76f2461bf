// Baseline: Debian's pgloader loading the same fixed-width file into a table with the same key.
//   node pgloader-fixed.mjs <STUDENT.DAT> <relationships.json> <postgres-url>
//   PGLOADER_VERBOSE=1 shows pgloader's own output (its errors included).
// Prints one JSON line: { rows, seconds, maxRssMb } (maxRssMb is this wrapper's).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const [given, relationships, url] = process.argv.slice(2);
// pgloader reads a relative path from its --root-dir, not from here.
const file = resolve(given);
const layout = JSON.parse(readFileSync(relationships, 'utf8')).file_layouts['STUDENT.DAT'];
const cols = layout.columns.map((c) => ({ name: c.name.toLowerCase(), start: c.start, width: c.width }));
const key = (Array.isArray(layout.primary_key) ? layout.primary_key : [layout.primary_key])[0].toLowerCase();
const table = `bench_pgloader_${process.pid}`;
const psql = (sql) =>
  execFileSync('psql', [url, '-v', 'ON_ERROR_STOP=1', '-q', '-At', '-c', sql], { encoding: 'utf8' });
psql(`CREATE TABLE ${table} (${cols.map((c) => `"${c.name}" text`).join(', ')}, PRIMARY KEY ("${key}"))`);
const dir = mkdtempSync(join(tmpdir(), 'pgloader-'));
try {
  const target = new URL(url);
  target.searchParams.set('tablename', table);
  writeFileSync(
    join(dir, 'load.load'),
    `LOAD FIXED FROM '${file}' WITH ENCODING latin1
  (${cols.map((c) => `${c.name} from ${c.start} for ${c.width} [trim right whitespace]`).join(',\n   ')})
  INTO ${target.toString()}
  TARGET COLUMNS (${cols.map((c) => c.name).join(', ')});
`,
  );
  const started = performance.now();
  execFileSync('pgloader', ['--quiet', '--root-dir', dir, join(dir, 'load.load')], {
    stdio: process.env.PGLOADER_VERBOSE ? 'inherit' : 'ignore',
  });
  const seconds = (performance.now() - started) / 1000;
  const rows = Number(psql(`SELECT count(*) FROM ${table}`).trim());
  console.log(JSON.stringify({ rows, seconds, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
} finally {
  psql(`DROP TABLE IF EXISTS ${table}`);
  rmSync(dir, { recursive: true, force: true });
}
