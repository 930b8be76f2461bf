// Scale-out: every school in a folder through the job queue with N worker processes.
//   node scale-out.mjs <workers> <folder> <schools,comma,separated> [warm-up schools,comma,separated]
//   (database from DATABASE_URL/SCHEMA)
// Prints one JSON line: { rows, seconds, maxRssMb, busyCores, workers, schools, workerCpuSeconds,
// pgCpuSeconds } (busyCores: the machine's cores busy on average while the schools ran: workers,
// PostgreSQL, Redis and this process; the CPU seconds: the worker processes', and PostgreSQL's).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';

import { Queue } from 'bullmq';

import { loadConfig } from '../../dist/config/index.js';
import { createApp, triggerEtl } from '../../dist/app/index.js';
import { createLogger } from '../../dist/observability/logger.js';
import { busyCores, cpuSample, cpuUsed, pidsNamed, processCpu } from '../lib.mjs';

const [workersText, folder, schoolsText, warmupsText = ''] = process.argv.slice(2);
const workers = Number(workersText);
const schools = schoolsText.split(',');
const warmups = warmupsText.split(',').filter(Boolean);
const prefix = `bench-${randomUUID().slice(0, 8)}`;
const env = {
  ...process.env,
  CASES_DIRECTORY: folder,
  ETL_SCHOOLS: schoolsText,
  ETL_QUEUE_PREFIX: prefix,
  ETL_FILE_STABLE_MS: '0',
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  // Each worker answers /livez, /readyz and /metrics: on a port of its own.
  PORT: '0',
};
const cli = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const app = await createApp(loadConfig(env), { logger: createLogger({ level: 'silent' }) });
const children = Array.from({ length: workers }, () =>
  spawn(process.execPath, [cli, 'worker'], { env, stdio: 'ignore' }),
);
try {
  // The clock starts once every worker is connected and waiting for jobs (startup, migrations and
  // Redis connections are not what this measures), or fails if they never all are.
  const queue = app.queue;
  for (const deadline = Date.now() + 60_000; (await queue.getWorkers()).length < workers;) {
    if (Date.now() > deadline)
      throw new Error(`only ${(await queue.getWorkers()).length} of ${workers} workers connected within 60 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
  // Each worker first loads schools of its own, untimed: starting a process (its JIT, its
  // connections and PostgreSQL's caches behind them) costs once per worker, not per school, and
  // is not what a night of many schools is made of.
  const completed = async (n) => {
    for (;;) {
      const c = await queue.getJobCounts('completed', 'failed');
      if (c.failed > 0) throw new Error(`${c.failed} jobs failed`);
      if (c.completed >= n) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  for (const school of warmups) await triggerEtl({ app, school, trigger: 'manual' });
  await completed(warmups.length);
  const cpu = cpuSample();
  // Per process too: the workers, and PostgreSQL's processes (its backends live as long as the workers' pools).
  const workerPids = children.map((c) => c.pid);
  const workers0 = processCpu(workerPids);
  const pg0 = processCpu(pidsNamed('postgres'));
  const started = performance.now();
  const { jobs } = await triggerEtl({ app, trigger: 'manual' });
  if (jobs.length !== schools.length) throw new Error(`queued ${jobs.length} jobs for ${schools.length} schools`);
  await completed(warmups.length + schools.length);
  const seconds = (performance.now() - started) / 1000;
  const busy = busyCores(cpu, cpuSample());
  const workerCpuSeconds = cpuUsed(workers0, processCpu(workerPids));
  const pgCpuSeconds = cpuUsed(pg0, processCpu(pidsNamed('postgres')));
  const runs = (await app.store.listRuns({ limit: 1000 })).filter((r) => schools.includes(r.school));
  const rows = runs.reduce((n, r) => n + r.rows, 0);
  console.log(
    JSON.stringify({
      rows,
      seconds,
      maxRssMb: process.resourceUsage().maxRSS / 1024,
      busyCores: busy,
      workers,
      schools: schools.length,
      workerCpuSeconds,
      pgCpuSeconds,
    }),
  );
} finally {
  for (const c of children) c.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  const q = new Queue('cases-etl', { connection: { url: env.REDIS_URL }, prefix });
  await q.obliterate({ force: true }).catch(() => undefined);
  await q.close();
  await app.stop();
}
