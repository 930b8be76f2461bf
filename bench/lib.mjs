// Shared pieces of the benchmark: data generation (cached), child-process scenarios, medians.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const DATA_DIR = join(BENCH_DIR, 'data');

/** Writes (once) a generated ST file of `rows` students; later runs reuse it. */
export async function studentsFile(rows, seed = 1) {
  await mkdir(DATA_DIR, { recursive: true });
  const path = join(DATA_DIR, `ST_${rows}_seed${seed}.csv`);
  const exists = await stat(path).then(
    (s) => s.size > 0,
    () => false,
  );
  if (!exists) {
    const { writeStudentsFile } = await import('../dist/generate/index.js');
    process.stderr.write(`generating ${rows.toLocaleString('en-AU')} students into ${path}…\n`);
    await writeStudentsFile(path, { rows, seed });
  }
  return path;
}

export const CORES = availableParallelism();

/**
 * The whole machine's CPU counters (Linux /proc/stat, every core): busy and total clock ticks.
 * Two samples around a measurement give how many cores were busy on average during it, whoever
 * was busy: our process and its helper threads, PostgreSQL's backends, Redis, anything else.
 */
export function cpuSample() {
  const ticks = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal …: idle and iowait are the not-busy ones.
  const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - ticks[3] - ticks[4], total };
}

/** Clock ticks per second of /proc's CPU counters (USER_HZ: 100 on Linux). */
const TICKS = 100;

/** CPU seconds (user + system) each process has used so far, by pid; a process gone is left out. */
export function processCpu(pids) {
  const out = new Map();
  for (const pid of pids) {
    try {
      // The command name is in parentheses and may hold spaces: fields count from after it.
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(pid, (Number(f[11]) + Number(f[12])) / TICKS);
    } catch {
      // Ended between listing and reading.
    }
  }
  return out;
}

/** The pids of every process whose command name is `name` (PostgreSQL's are all `postgres`). */
export function pidsNamed(name) {
  const pids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'latin1').trim() === name) pids.push(Number(entry));
    } catch {
      // Ended between listing and reading.
    }
  }
  return pids;
}

/**
 * CPU seconds used between two `processCpu` samples, summed: a process that started in between
 * counts from zero; one that ended in between is lost, so sample while the work's processes live.
 */
export function cpuUsed(from, to) {
  let sum = 0;
  for (const [pid, t] of to) sum += t - (from.get(pid) ?? 0);
  return sum;
}

/** Cores busy on average between two `cpuSample`s (0 … CORES). */
export function busyCores(from, to) {
  return ((to.busy - from.busy) / Math.max(1, to.total - from.total)) * CORES;
}

/** Runs a scenario script in a fresh Node process (so peak RSS is its own) and parses its JSON line. */
export function runScenario(script, args, env = {}) {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [join(BENCH_DIR, 'scenarios', script), ...args],
      { env: { ...process.env, ...env }, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`${script} failed: ${stderr || err.message}`));
        const line = stdout.trim().split('\n').pop() ?? '';
        resolve(JSON.parse(line));
      },
    );
  });
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** A scenario's runs summarised: median rows/s and seconds, the largest peak RSS, and every run. */
export function summarise(label, results) {
  return {
    label,
    rows: results[0].rows,
    seconds: median(results.map((r) => r.seconds)),
    rowsPerSecond: median(results.map((r) => r.rows / r.seconds)),
    peakRssMb: Math.max(...results.map((r) => r.maxRssMb)),
    ...(results.every((r) => r.busyCores !== undefined) ? { busyCores: median(results.map((r) => r.busyCores)) } : {}),
    runs: results,
  };
}

/** A scenario script run in its own process, as a spec for `rounds`. */
export function scenario(label, script, args, env) {
  return { label, once: () => runScenario(script, args, env) };
}

/**
 * Runs every spec once per round, in order, for `count` rounds, so a baseline and the scenarios
 * measured against it take turns: when the machine slows down for a while (these machines are
 * shared), both sides of a ratio feel it. Returns one summary per spec, in spec order.
 */
export async function rounds(specs, count) {
  const results = specs.map(() => []);
  for (let i = 0; i < count; i++) {
    for (const [k, spec] of specs.entries()) {
      const r = await spec.once();
      process.stderr.write(
        `  ${spec.label} #${i + 1}: ${Math.round(r.rows / r.seconds).toLocaleString('en-AU')} rows/s, ${r.seconds.toFixed(2)} s, ${r.maxRssMb.toFixed(0)} MB\n`,
      );
      results[k].push(r);
    }
  }
  return specs.map((spec, k) => summarise(spec.label, results[k]));
}

/** The median over rounds of the candidate's rows/s divided by the baseline's in the same round. */
export function pairedRatio(baseline, candidate) {
  return median(candidate.runs.map((r, i) => r.rows / r.seconds / (baseline.runs[i].rows / baseline.runs[i].seconds)));
}

/**
 * The most `pairedRatio(baseline, …)` could be, round by round, if `work`'s CPU time (the whole
 * machine's while it ran, so PostgreSQL's too) were spread over every core with none idle: a
 * bound set by the machine, not by how the work is scheduled. The median over rounds.
 */
export function cpuCeiling(baseline, work) {
  return median(
    work.runs.map(
      (r, i) => baseline.runs[i].seconds / baseline.runs[i].rows / ((r.seconds * r.busyCores) / CORES / r.rows),
    ),
  );
}

/**
 * A copy of the folder `src` (once, into DATA_DIR/`folder`) with an empty line added to the end of
 * every file: the same rows in other bytes, so a re-run cannot take any file as its table was
 * last loaded from (plan/unchanged.ts) and recognises each row by its line hash instead.
 */
export async function withBlankLine(src, folder) {
  const { appendFile, copyFile, readdir, rm } = await import('node:fs/promises');
  const dir = join(DATA_DIR, folder);
  // Beside the folder, not in it: a run would see it as a file of the export.
  const done = `${dir}.complete`;
  if (
    await stat(done).then(
      () => true,
      () => false,
    )
  )
    return dir;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  // Every file a school's folder holds, or the one file a single-table folder links to.
  for (const name of await readdir(src)) {
    await copyFile(join(src, name), join(dir, name));
    await appendFile(join(dir, name), '\r\n');
  }
  await appendFile(done, '');
  return dir;
}

/** Hard-links `file` into its own folder as `name`, so a run sees exactly one file. */
export async function folderWith(file, folder, name) {
  const { link, mkdir: mk, rm } = await import('node:fs/promises');
  const dir = join(DATA_DIR, folder);
  await rm(dir, { recursive: true, force: true });
  await mk(dir, { recursive: true });
  await link(file, join(dir, name));
  return dir;
}

/** Writes (once) a copy of an ST file with every `every`th student's surname changed. */
export async function changedCopy(src, dest, every) {
  const exists = await stat(dest).then(
    (s) => s.size > 0,
    () => false,
  );
  if (exists) return dest;
  const { createReadStream, createWriteStream } = await import('node:fs');
  const { default: Papa } = await import('papaparse');
  const { createChunkDecoder, encodeWindows1252 } = await import('../dist/extract/index.js');
  process.stderr.write(`writing ${dest} with 1 in ${every} rows changed…\n`);
  const out = createWriteStream(dest);
  const cell = (v) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  let header = null;
  let surname = -1;
  let n = 0;
  let lines = '';
  const parser = new Papa.Parser({
    newline: '\n',
    step: (res) => {
      const row = res.data[0];
      if (!header) {
        header = row;
        surname = row.indexOf('SURNAME');
      } else if (n++ % every === 0) row[surname] = `${row[surname]}-CHANGED`.slice(0, 30);
      lines += row.map(cell).join(',') + '\r\n';
    },
  });
  let rest = '';
  const drain = async () => {
    if (!out.write(encodeWindows1252(lines))) await new Promise((r) => out.once('drain', r));
    lines = '';
  };
  let decoder = null;
  for await (const buf of createReadStream(src, { highWaterMark: 1 << 20 })) {
    // Read as Windows-1252, as it was written: read as Latin-1, ’ and Ž came back as C1 controls
    // and were written out as '?', changing some 21,000 more rows than the one in `every`.
    decoder ??= createChunkDecoder('windows-1252', buf);
    const text = rest + decoder.write(buf).replace(/\r\n?/g, '\n');
    rest = text.slice(parser.parse(text, 0, true).meta.cursor);
    await drain();
  }
  if (rest) parser.parse(rest, 0, false);
  await drain();
  await new Promise((r) => out.end(r));
  return dest;
}

/**
 * Writes (once) STUDENT.DAT's records as a CSV file with a header, cut by its layout and trimmed
 * as pgloader trims them, so `psql \\copy` can load the same rows: PostgreSQL's own ingest rate
 * for them, the ceiling under any loader.
 */
export async function fixedAsCsv(fixed) {
  const dest = fixed.file.replace(/\.DAT$/, '.csv');
  const exists = await stat(dest).then(
    (s) => s.size > 0,
    () => false,
  );
  if (exists) return dest;
  const { createReadStream, createWriteStream } = await import('node:fs');
  const { readFile } = await import('node:fs/promises');
  const { createInterface } = await import('node:readline');
  const layout = JSON.parse(await readFile(fixed.relationships, 'utf8')).file_layouts['STUDENT.DAT'];
  const cell = (v) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const out = createWriteStream(dest, { encoding: 'latin1' });
  out.write(`${layout.columns.map((c) => c.name).join(',')}\r\n`);
  // Latin-1 in and out keeps every byte as it was (Windows-1252 included), one char per byte.
  for await (const line of createInterface({
    input: createReadStream(fixed.file, { encoding: 'latin1' }),
    crlfDelay: Infinity,
  })) {
    if (!line) continue;
    const row = layout.columns.map((c) => cell(line.slice(c.start, c.start + c.width).trimEnd()));
    if (!out.write(`${row.join(',')}\r\n`)) await new Promise((r) => out.once('drain', r));
  }
  await new Promise((r) => out.end(r));
  return dest;
}

/** Writes (once) a generated school. */
export async function school(students, seed = 1) {
  const dir = join(DATA_DIR, `school_${students}_seed${seed}`);
  const exists = await stat(join(dir, 'UM_8865.csv')).then(
    () => true,
    () => false,
  );
  if (!exists) {
    const { generateSchool } = await import('../dist/generate/index.js');
    await generateSchool({ outDir: dir, students, seed });
  }
  return dir;
}

/** A fresh PostgreSQL schema for one measurement, dropped by the returned function. */
export function pgSchema(url) {
  const name = `bench_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  return {
    name,
    env: { DATABASE_URL: url, DATABASE_SCHEMA: name },
    drop: () =>
      new Promise((resolve) =>
        execFile('psql', [url, '-q', '-c', `DROP SCHEMA IF EXISTS ${name} CASCADE`], () => resolve()),
      ),
  };
}

/** Writes (once) a fixed-width school of `students` and returns STUDENT.DAT alone in a folder, with its relationships.json. */
export async function fixedStudents(students, seed = 1) {
  const dir = join(DATA_DIR, `fixed_${students}_seed${seed}`);
  const exists = await stat(join(dir, 'relationships.json')).then(
    () => true,
    () => false,
  );
  if (!exists) {
    const { generateSchool } = await import('../dist/generate/index.js');
    process.stderr.write(`generating a fixed-width school of ${students.toLocaleString('en-AU')} students…\n`);
    await generateSchool({ outDir: dir, students, seed, format: 'fixed' });
  }
  return {
    folder: await folderWith(join(dir, 'STUDENT.DAT'), `fixed-${students}`, 'STUDENT.DAT'),
    file: join(dir, 'STUDENT.DAT'),
    relationships: join(dir, 'relationships.json'),
  };
}

/** A folder holding `count` schools, each a hard-linked copy of one generated school under its own number. */
export async function manySchools(count, students = 1500) {
  const { link, mkdir: mk, readdir, rm } = await import('node:fs/promises');
  const source = await school(students);
  const dir = join(DATA_DIR, `schools_${count}x${students}`);
  await rm(dir, { recursive: true, force: true });
  await mk(dir, { recursive: true });
  const ids = Array.from({ length: count }, (_, i) => String(1001 + i));
  for (const name of await readdir(source)) {
    for (const id of ids) await link(join(source, name), join(dir, name.replace('_8865', `_${id}`)));
  }
  return { folder: dir, schools: ids };
}
