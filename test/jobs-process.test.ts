import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

import { Job, type Queue } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { generateSchool } from '../src/generate/index.js';
import { createApp, triggerEtl } from '../src/app/index.js';
import { createRedis, evictionWarning, startInProcessScheduler } from '../src/jobs/index.js';
import { createLogger } from '../src/observability/logger.js';
import { CLI } from './helpers/cli.js';
import { eventually, jobApp, obliterate, REDIS_URL, settledJob, uniquePrefix } from './helpers/jobs.js';
import { copySample } from './helpers/nights.js';
import { createTarget, DIALECTS, type Target } from './helpers/targets.js';

function startCliWorker(env: Record<string, string>): {
  child: ChildProcess;
  exited: Promise<number | null>;
  stderr: () => string;
} {
  const child = spawn(process.execPath, [CLI, 'worker'], {
    // Its HTTP (/livez, /readyz, /metrics) on any free port: the default 3000 may be another test's.
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, exited, stderr: () => err };
}

describe.each(DIALECTS)('worker processes on %s', (dialect) => {
  let target: Target;
  let prefix: string;
  beforeEach(async () => {
    target = await createTarget(dialect);
    prefix = uniquePrefix();
  });
  afterEach(async () => {
    await obliterate(prefix);
    await target.cleanup();
  });

  it('SIGTERM mid-run, then a fresh worker: exactly one published run and nothing duplicated', async () => {
    const src = join(target.dir, 'export');
    await generateSchool({ outDir: src, students: 2000, seed: 11 });
    const env = {
      ...target.env,
      REDIS_URL,
      ETL_QUEUE_PREFIX: prefix,
      CASES_DIRECTORY: src,
      ETL_SHUTDOWN_TIMEOUT_MS: '100',
      ETL_JOB_LOCK_MS: '1500',
      ETL_JOB_BACKOFF_MS: '100',
    };
    const app = await jobApp(target, { CASES_DIRECTORY: src, ETL_QUEUE_PREFIX: prefix });
    try {
      const first = startCliWorker(env);
      const { jobs } = await triggerEtl({ app, school: '8865' });
      const jobId = jobs[0]?.jobId as string;
      // Mid-run: the run is in the ledger and the job has reported a file.
      await eventually(
        async () => {
          const job = await Job.fromId(app.queue as Queue, jobId);
          return job && typeof job.progress === 'object' && (job.progress as { done?: number }).done ? true : undefined;
        },
        60_000,
        'the first file of the run',
      );
      first.child.kill('SIGTERM');
      const code = await first.exited;
      expect(code, first.stderr()).toBe(1);
      expect(first.stderr()).toContain('did not finish in time');
      expect((await app.store.listRuns({ limit: 5 })).map((r) => r.status)).toEqual(['running']);

      const second = startCliWorker(env);
      try {
        const done = await settledJob(app.queue as Queue, jobId, 'completed', 90_000);
        expect(done?.returnvalue).toMatchObject({ status: 'succeeded' });
      } finally {
        second.child.kill('SIGTERM');
        await second.exited;
      }
      const runs = await app.store.listRuns({ limit: 5 });
      expect(runs.map((r) => [r.status, r.jobId])).toEqual([
        ['succeeded', jobId],
        ['failed', jobId],
      ]);
      expect(runs[1]?.errorCode).toBe('ETL_RUN_INTERRUPTED');
      const probe = await target.probe();
      try {
        expect(await probe.all(`SELECT count(*) AS n FROM cases_st`)).toEqual([{ n: 2000 }]);
        expect(await probe.all(`SELECT count(DISTINCT run_id) AS n FROM etl_changes`)).toEqual([{ n: 1 }]);
      } finally {
        await probe.close();
      }
    } finally {
      await app.stop();
    }
  });
});

describe('without Redis', () => {
  let target: Target;
  beforeEach(async () => (target = await createTarget('sqlite')));
  afterEach(() => target.cleanup());

  it('schedules in-process with the same cron and time zone, once per school per night', async () => {
    const src = join(target.dir, 'export');
    await copySample(src);
    const app = await createApp(
      target.config({ CASES_DIRECTORY: src, ETL_SCHEDULE: '* * * * * *', ETL_SCHEDULE_SECONDS: 'true' }),
      {
        logger: createLogger({ level: 'silent' }),
      },
    );
    expect(app.queue).toBeNull();
    const scheduler = startInProcessScheduler(app, app.logger);
    try {
      expect(scheduler.next().getTime() - Date.now()).toBeLessThanOrEqual(1000);
      await eventually(
        async () => ((await app.store.listRuns({ limit: 5 })).some((r) => r.status === 'succeeded') ? true : undefined),
        20_000,
        'a scheduled run',
      );
      await new Promise((r) => setTimeout(r, 2500));
    } finally {
      await scheduler.stop();
      const runs = await app.store.listRuns({ limit: 10 });
      await app.stop();
      expect(runs.map((r) => [r.trigger, r.status])).toEqual([['schedule', 'succeeded']]);
    }
  });

  it('trigger runs the ETL directly', async () => {
    const src = join(target.dir, 'export');
    await copySample(src);
    const child = spawn(process.execPath, [CLI, 'trigger', '--school', '8865'], {
      env: { ...process.env, ...target.env, CASES_DIRECTORY: src },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code).toBe(0);
    expect(out).toContain('No Redis configured: the run happened here.');
    expect(out).toMatch(/^School 8865: run 1 succeeded$/m);
  });
});

describe('Redis eviction policy', () => {
  it('warns when Redis may evict queued jobs, and not when it is noeviction', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const server = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--maxmemory-policy',
        'allkeys-lru',
      ],
      { stdio: 'ignore' },
    );
    const lru = createRedis(`redis://127.0.0.1:${port}`);
    const main = createRedis(REDIS_URL);
    try {
      await eventually(
        async () => ((await lru.ping().catch(() => null)) === 'PONG' ? true : undefined),
        10_000,
        'the test Redis',
      );
      expect(await evictionWarning(lru)).toContain('maxmemory-policy is "allkeys-lru", not "noeviction"');
      expect(await evictionWarning(main)).toBeNull();
    } finally {
      lru.disconnect();
      main.disconnect();
      server.kill('SIGKILL');
    }
  });
});

describe('cases-etl serve', () => {
  let target: Target;
  let prefix: string;
  beforeEach(async () => {
    target = await createTarget('sqlite');
    prefix = uniquePrefix();
  });
  afterEach(async () => {
    await obliterate(prefix);
    await target.cleanup();
  });

  it('registers the schedule, answers HTTP, and stops cleanly on SIGTERM', async () => {
    const src = join(target.dir, 'export');
    await copySample(src);
    const child = spawn(process.execPath, [CLI, 'serve'], {
      env: { ...process.env, ...target.env, REDIS_URL, ETL_QUEUE_PREFIX: prefix, CASES_DIRECTORY: src, PORT: '0' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    try {
      const address = await eventually(async () => /"address":"([^"]+)"/.exec(log)?.[1], 20_000, 'serve to listen');
      const health = await fetch(`http://${address}/api/cases-etl/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'healthy' });
      expect(log).toContain('nightly schedule registered');
      expect(log).toContain('no notification channel is configured');
      const dashboard = await eventually(
        async () => /"dashboard":"([^"]+)"/.exec(log)?.[1],
        5_000,
        'the dashboard address',
      );
      expect(dashboard).toBe(`http://${address}/dashboard`);
      expect((await fetch(dashboard)).headers.get('content-type')).toBe('text/html; charset=utf-8');
      const app = await jobApp(target, { ETL_QUEUE_PREFIX: prefix });
      try {
        expect(await (app.queue as Queue).getJobSchedulersCount()).toBe(1);
      } finally {
        await app.stop();
      }
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(log).toContain('shutting down');
  });
});
