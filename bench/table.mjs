// Prints bench/results/latest.json as the two Markdown tables the README shows under
// "Latest figures":   node bench/table.mjs
// test/readme.test.ts checks that the README's ratio table matches latest.json.
import { readFile } from 'node:fs/promises';

const result = JSON.parse(await readFile(new URL('results/latest.json', import.meta.url), 'utf8'));
const int = (n) => Math.round(n).toLocaleString('en-AU');

console.log('| Scenario | rows/s | seconds | peak RSS |');
console.log('|---|---:|---:|---:|');
for (const s of result.scenarios)
  console.log(`| ${s.label} | ${int(s.rowsPerSecond)} | ${s.seconds.toFixed(1)} | ${s.peakRssMb.toFixed(0)} MB |`);

console.log('\n| Ratio (`bench/results/latest.json`) | value | target | met |');
console.log('|---|---:|---|---|');
for (const [key, value] of Object.entries(result)) {
  if (typeof value !== 'number' || ['runs', 'rows'].includes(key)) continue;
  const t = result.targets[key];
  const target = !t ? '—' : t.min !== undefined ? `≥ ${t.min}` : `≤ ${t.max}`;
  const met = !t ? '—' : (t.min !== undefined ? value >= t.min : value <= t.max) ? 'yes' : '**no**';
  console.log(`| \`${key}\` | ${value.toFixed(2)} | ${target} | ${met} |`);
}
