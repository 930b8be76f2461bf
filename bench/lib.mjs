// Shared pieces of the benchmark: data generation (cached), child-process scenarios, medians.
import { execFile } from 'node:child_process';
import { mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const DATA_DIR = join(BENCH_DIR, 'data');

/** Writes (once) a generated ST file of `rows` students; later runs reuse it. */
export async function studentsFile(rows, seed = 1) {
  await mkdir(DATA_DIR, { recursive: true });
  const path = join(DATA_DIR, `ST_${rows}_seed${seed}.csv`);
  const exists = await stat(path).then((s) => s.size > 0, () => false);
  if (!exists) {
    const { writeStudentsFile } = await import('../dist/generate/index.js');
    process.stderr.write(`generating ${rows.toLocaleString('en-AU')} students into ${path}…\n`);
    await writeStudentsFile(path, { rows, seed });
  }
  return path;
}

/** Runs a scenario script in a fresh Node process (so peak RSS is its own) and parses its JSON line. */
export function runScenario(script, args, env = {}) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [join(BENCH_DIR, 'scenarios', script), ...args], { env: { ...process.env, ...env }, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${script} failed: ${stderr || err.message}`));
      const line = stdout.trim().split('\n').pop() ?? '';
      resolve(JSON.parse(line));
    });
  });
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Runs a scenario `runs` times and returns the median rows/s, the median seconds and the largest peak RSS. */
export async function measure(label, script, args, runs, env) {
  const results = [];
  for (let i = 0; i < runs; i++) {
    const r = await runScenario(script, args, env);
    process.stderr.write(`  ${label} #${i + 1}: ${Math.round(r.rows / r.seconds).toLocaleString('en-AU')} rows/s, ${r.maxRssMb.toFixed(0)} MB\n`);
    results.push(r);
  }
  return {
    label,
    rows: results[0].rows,
    seconds: median(results.map((r) => r.seconds)),
    rowsPerSecond: median(results.map((r) => r.rows / r.seconds)),
    peakRssMb: Math.max(...results.map((r) => r.maxRssMb)),
    runs: results,
  };
}
