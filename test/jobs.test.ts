import { join } from 'node:path';

import { Queue } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { loadConfig } from '../src/config/index.js';
import {
  localDate,
  nextRunTimes,
  QUEUE_NAME,
  registeredSchedule,
  registerSchedule,
  SCHEDULER_ID,
} from '../src/jobs/index.js';
import { startWorker, triggerEtl, type App } from '../src/app/index.js';
import {
  eventually,
  jobApp,
  obliterate,
  REDIS_URL,
  settledJob,
  startFlakyProxy,
  uniquePrefix,
} from './helpers/jobs.js';
import { copySample, editCsv } from './helpers/nights.js';
import { createTarget, type Dialect, type Target } from './helpers/targets.js';

describe('the nightly schedule', () => {
  let prefix: string;
  beforeEach(() => void (prefix = uniquePrefix()));
  afterEach(() => obliterate(prefix));

  it('is registered once by three concurrent starts, and a changed pattern replaces it', async () => {
    const queues = [0, 1, 2].map(() => new Queue(QUEUE_NAME, { connection: { url: REDIS_URL }, prefix }));
    try {
      const jobs = loadConfig({ REDIS_URL, ETL_QUEUE_PREFIX: prefix }).jobs;
      await Promise.all(queues.map((q) => registerSchedule(q, jobs)));
      const q = queues[0] as Queue;
      expect(await q.getJobSchedulersCount()).toBe(1);
      expect(await q.getDelayedCount()).toBe(1);
      expect(await registeredSchedule(q)).toMatchObject({ pattern: '0 2 * * *', timezone: 'Australia/Melbourne' });
      const next = (await registeredSchedule(q))?.next as Date;
      expect(next.getTime()).toBe(nextRunTimes('0 2 * * *', 'Australia/Melbourne', new Date(), 1)[0]?.getTime());

      const changed = loadConfig({ REDIS_URL, ETL_QUEUE_PREFIX: prefix, ETL_SCHEDULE: '30 3 * * 1-5' }).jobs;
      await Promise.all(queues.map((qq) => registerSchedule(qq, changed)));
      expect(await q.getJobSchedulersCount()).toBe(1);
      expect(await q.getDelayedCount()).toBe(1);
      expect((await q.getJobSchedulers())[0]).toMatchObject({
        key: SCHEDULER_ID,
        pattern: '30 3 * * 1-5',
        tz: 'Australia/Melbourne',
      });
    } finally {
      await Promise.all(queues.map((q) => q.close()));
    }
  });

  it('fires once per night across the April and October daylight-saving changes in Melbourne', () => {
    for (const [from, pattern] of [
      ['2026-03-28T00:00:00Z', '0 2 * * *'],
      ['2026-09-28T00:00:00Z', '0 2 * * *'],
      ['2026-03-28T00:00:00Z', '30 2 * * *'],
      ['2026-09-28T00:00:00Z', '30 2 * * *'],
    ] as const) {
      const times = nextRunTimes(pattern, 'Australia/Melbourne', new Date(from), 14);
      const nights = times.map((t) => localDate(t, 'Australia/Melbourne'));
      // Fourteen fires, fourteen different nights, none skipped.
      expect(new Set(nights).size, `${pattern} from ${from}: ${nights.join(', ')}`).toBe(14);
      for (let i = 1; i < nights.length; i++) {
        const gap = (Date.parse(`${nights[i]}T00:00:00Z`) - Date.parse(`${nights[i - 1]}T00:00:00Z`)) / 86_400_000;
        expect(gap).toBe(1);
      }
    }
    // The nights of the changes themselves: 5 April 2026 (clocks back) and 4 October 2026 (clocks forward).
    const april = nextRunTimes('0 2 * * *', 'Australia/Melbourne', new Date('2026-04-04T00:00:00Z'), 2).map((t) =>
      t.toISOString(),
    );
    expect(april).toEqual(['2026-04-04T15:00:00.000Z', '2026-04-05T16:00:00.000Z']);
    const october = nextRunTimes('0 2 * * *', 'Australia/Melbourne', new Date('2026-10-03T00:00:00Z'), 2).map((t) =>
      t.toISOString(),
    );
    expect(october).toEqual(['2026-10-03T16:00:00.000Z', '2026-10-04T15:00:00.000Z']);
  });
});

describe.each<Dialect>(['sqlite', 'postgres'])('jobs on %s', (dialect) => {
  let target: Target;
  let prefix: string;
  let src: string;
  const apps: App[] = [];
  const closers: Array<() => Promise<unknown>> = [];

  beforeEach(async () => {
    target = await createTarget(dialect);
    prefix = uniquePrefix();
    src = join(target.dir, 'export');
    await copySample(src);
  });
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
    for (const a of apps.splice(0)) await a.stop();
    await obliterate(prefix);
    await target.cleanup();
  });

  const app = async (env: Record<string, string> = {}): Promise<App> => {
    const a = await jobApp(target, {
      CASES_DIRECTORY: src,
      ETL_QUEUE_PREFIX: prefix,
      ETL_JOB_BACKOFF_MS: '100',
      ...env,
    });
    apps.push(a);
    return a;
  };
  const worker = (a: App): void => void closers.push(startWorker(a).stop);

  it('fires a scheduled night (a per-second test pattern) and records one run per school per night', async () => {
    const a = await app({ ETL_SCHEDULE: '* * * * * *', ETL_SCHEDULE_SECONDS: 'true' });
    await registerSchedule(a.queue as Queue, a.config.jobs);
    worker(a);
    const runs = await eventually(async () => {
      const r = await a.store.listRuns({ limit: 10 });
      return r.some((x) => x.status === 'succeeded') ? r : undefined;
    });
    // Let the schedule fire a few more times: the night's job id keeps it to one run.
    await new Promise((r) => setTimeout(r, 2500));
    await (a.queue as Queue).removeJobScheduler(SCHEDULER_ID);
    const all = await a.store.listRuns({ limit: 10 });
    const night = localDate(new Date(), 'Australia/Melbourne');
    expect(all.map((r) => [r.school, r.trigger, r.status, r.jobId])).toEqual([
      ['8865', 'schedule', 'succeeded', `nightly-8865-${night}`],
    ]);
    expect(runs[0]?.rows).toBe(2658);
  });

  it('runs a triggered job, records its job id, and returns the waiting job to a second trigger', async () => {
    const a = await app();
    const first = await triggerEtl({ app: a, school: '8865' });
    const second = await triggerEtl({ app: a, school: '8865' });
    expect(first.jobs[0]).toMatchObject({ school: '8865', created: true });
    expect(second.jobs[0]).toEqual({ ...first.jobs[0], created: false });
    expect(await (a.queue as Queue).getWaitingCount()).toBe(1);
    worker(a);
    const jobId = first.jobs[0]?.jobId as string;
    const done = await settledJob(a.queue as Queue, jobId, 'completed');
    expect(done?.returnvalue).toMatchObject({ school: '8865', status: 'succeeded', stats: { rows: 2658 } });
    expect(done?.progress).toMatchObject({ school: '8865', done: 16, total: 16 });
    const [run] = await a.store.listRuns({ limit: 5 });
    expect(run).toMatchObject({ jobId, trigger: 'manual', status: 'succeeded' });
  });

  it('fails a guard-rail job once, without retries, and records the run with its job id', async () => {
    await editCsv(join(src, 'ST_8865.csv'), (rows, col) =>
      rows.map((r) => Object.assign([...r], { [col('BIRTHDATE')]: 'never' })),
    );
    const a = await app({ ETL_JOB_ATTEMPTS: '3' });
    worker(a);
    const { jobs } = await triggerEtl({ app: a, school: '8865' });
    const jobId = jobs[0]?.jobId as string;
    const failed = await settledJob(a.queue as Queue, jobId, 'failed');
    expect(failed?.attemptsMade).toBe(1);
    expect(failed?.failedReason).toMatch(/^run \d+ failed: .*of table ST's rows were rejected/);
    const runs = await a.store.listRuns({ limit: 5 });
    expect(runs.map((r) => [r.status, r.jobId, r.errorCode])).toEqual([['failed', jobId, 'ETL_GUARD_ERROR_RATE']]);
  });

  it('runs two schools on two workers in parallel, and never one school twice at once', async () => {
    for (const [from, to] of [
      ['8865', '1111'],
      ['8865', '2222'],
    ]) {
      const { copyFile } = await import('node:fs/promises');
      for (const t of ['ST', 'SF', 'STMA', 'UM', 'DF'])
        await copyFile(join(src, `${t}_${from}.csv`), join(src, `${t}_${to}.csv`));
    }
    const w1 = await app({ ETL_SCHOOLS: '1111,2222' });
    const w2 = await app({ ETL_SCHOOLS: '1111,2222' });
    worker(w1);
    worker(w2);
    const t = await triggerEtl({ app: w1, school: '1111' });
    await triggerEtl({ app: w1, school: '2222' });
    // A second run of 1111 while the first is active queues a new job; it must wait for the first.
    // Its run is in the ledger once the job has started (and released its deduplication key).
    const firstJob = t.jobs[0]?.jobId;
    await eventually(
      async () => ((await w1.store.listRuns({ limit: 10 })).some((r) => r.jobId === firstJob) ? true : undefined),
      30_000,
      'the first run to start',
    );
    await triggerEtl({ app: w1, school: '1111', force: true });
    const runs = await eventually(
      async () => {
        const r = await w1.store.listRuns({ limit: 10 });
        return r.length === 3 && r.every((x) => x.status !== 'running') ? r : undefined;
      },
      60_000,
      'three finished runs',
    );
    expect(runs.map((r) => `${r.school}:${r.status}:${r.overrides.join('+')}`).sort()).toEqual([
      '1111:succeeded:',
      '1111:succeeded:force',
      '2222:succeeded:',
    ]);
    expect(new Set(runs.map((r) => r.jobId)).size).toBe(3);
    const span = (r: (typeof runs)[number]): [number, number] => [
      Date.parse(r.startedAt),
      Date.parse(r.finishedAt as string),
    ];
    const [a1, a2] = runs.filter((r) => r.school === '1111').map(span);
    if (dialect === 'postgres' && a1 && a2) {
      // The advisory lock is taken before a run starts, so the same school's runs cannot overlap.
      expect(a1[0] >= a2[1] || a2[0] >= a1[1]).toBe(true);
    }
    expect(runs.filter((r) => r.school === '2222')).toHaveLength(1);
  });
});

describe('retries of infrastructure failures', () => {
  let target: Target;
  let prefix: string;
  beforeEach(async () => {
    target = await createTarget('postgres');
    prefix = uniquePrefix();
  });
  afterEach(async () => {
    await obliterate(prefix);
    await target.cleanup();
  });

  it('retries a run whose database connection is refused, then succeeds', async () => {
    const proxy = await startFlakyProxy();
    const src = join(target.dir, 'export');
    await copySample(src);
    const url = target.env.DATABASE_URL?.replace('127.0.0.1:5432', `127.0.0.1:${proxy.port}`) as string;
    const a = await jobApp(target, {
      DATABASE_URL: url,
      CASES_DIRECTORY: src,
      ETL_QUEUE_PREFIX: prefix,
      ETL_JOB_BACKOFF_MS: '200',
      ETL_JOB_ATTEMPTS: '3',
    });
    const w = startWorker(a);
    try {
      // As if the database restarted: open connections drop and the next one is refused.
      proxy.fail(1);
      const { jobs } = await triggerEtl({ app: a, school: '8865' });
      const done = await settledJob(a.queue as Queue, jobs[0]?.jobId as string, 'completed');
      expect(proxy.refused()).toBeGreaterThanOrEqual(1);
      expect(done?.attemptsMade).toBeGreaterThanOrEqual(2);
      expect(done?.returnvalue).toMatchObject({ status: 'succeeded' });
      const runs = await a.store.listRuns({ limit: 5 });
      expect(runs.filter((r) => r.status === 'succeeded').map((r) => r.jobId)).toEqual([jobs[0]?.jobId]);
    } finally {
      await w.stop();
      await a.stop();
      await proxy.close();
    }
  });
});
