import { execFile } from 'node:child_process';
import { join } from 'node:path';

import { Queue } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { runCli, type CliResult } from './helpers/cli.js';
import { closedPort, startCli, startRedisServer, type CliChild } from './helpers/children.js';
import { QUEUE_NAME } from '../src/jobs/index.js';
import { eventually, obliterate, REDIS_URL, uniquePrefix } from './helpers/jobs.js';
import { copySample, editCsv } from './helpers/nights.js';
import { createTarget, type Target } from './helpers/targets.js';

/**
 * `trigger --wait` hands the run to a worker (a real `cases-etl worker` on the local Redis) and
 * prints what `run` prints for the same night, ending with the same exit code. Two SQLite
 * databases take the same three nights: one through `run`, one through the queue.
 */

/** A summary with its timings taken out: the only thing two runs of the same night print differently. */
const timeless = (text: string): string => text.replace(/, in \d+\.\d s$/gm, ', in N s');

describe('trigger --wait', () => {
  let direct: Target;
  let queued: Target;
  let prefix: string;
  let worker: CliChild;

  beforeEach(async () => {
    [direct, queued] = await Promise.all([createTarget('sqlite'), createTarget('sqlite')]);
    await Promise.all([copySample(join(direct.dir, 'export')), copySample(join(queued.dir, 'export'))]);
    prefix = uniquePrefix();
    worker = startCli(['worker'], {
      ...queued.env,
      CASES_DIRECTORY: join(queued.dir, 'export'),
      REDIS_URL,
      ETL_QUEUE_PREFIX: prefix,
      PORT: '0',
      HOST: '127.0.0.1',
    });
  });
  afterEach(async () => {
    await worker.stop();
    await obliterate(prefix);
    await Promise.all([direct.cleanup(), queued.cleanup()]);
  });

  /** The same night both ways: `run` on one database, `trigger --wait` through the worker on the other. */
  async function night(): Promise<{ run: CliResult; trigger: CliResult; summary: string }> {
    const run = await runCli(['run', '--school', '8865'], {
      ...direct.env,
      CASES_DIRECTORY: join(direct.dir, 'export'),
    });
    const trigger = await runCli(['trigger', '--school', '8865', '--wait'], {
      ...queued.env,
      CASES_DIRECTORY: join(queued.dir, 'export'),
      REDIS_URL,
      ETL_QUEUE_PREFIX: prefix,
    });
    const [queuedLine, ...rest] = trigger.stdout.split('\n');
    expect(queuedLine, trigger.stdout + trigger.stderr).toMatch(/^school 8865: job \d+ queued$/);
    return { run, trigger, summary: rest.join('\n') };
  }

  it("prints run's per-table summary and ends with run's exit code: succeeded, skipped, failed", async () => {
    const first = await night();
    expect(first.run.code, first.run.stderr).toBe(0);
    expect(first.trigger.code, first.trigger.stderr).toBe(0);
    expect(first.summary).toMatch(/^School 8865: run 1 succeeded\n/);
    expect(first.summary).toMatch(/^ {2}FILE +TABLE +MODE +INSERTED +UPDATED/m);
    expect(first.summary).toMatch(/^ {2}ST_8865\.csv +ST +full +200 /m);
    expect(timeless(first.summary)).toBe(timeless(first.run.stdout));

    const again = await night();
    expect([again.run.code, again.trigger.code]).toEqual([0, 0]);
    expect(again.summary).toMatch(/^School 8865: run 2 skipped — this file set was already published by run 1/);
    expect(timeless(again.summary)).toBe(timeless(again.run.stdout));

    // Every student's birth date unreadable: the error-rate guard rail fails the night, and the
    // failed job still shows what its run would have done.
    for (const t of [direct, queued])
      await editCsv(join(t.dir, 'export', 'ST_8865.csv'), (rows, col) =>
        rows.map((r) => Object.assign([...r], { [col('BIRTHDATE')]: 'never' })),
      );
    const failed = await night();
    expect(failed.run.code).toBe(1);
    expect(failed.trigger.code, failed.trigger.stderr).toBe(1);
    expect(failed.summary).toMatch(/^School 8865: run 3 failed — /);
    expect(failed.summary).toContain('Nothing was published: the counts say what the run would have done.');
    expect(failed.summary).toMatch(/^ {2}guard ETL_GUARD_ERROR_RATE: /m);
    expect(timeless(failed.summary)).toBe(timeless(failed.run.stdout));
    expect(failed.trigger.stderr).not.toMatch(/^\s+at /m);
  });
});

describe('trigger --wait with no worker', () => {
  it('stops waiting with ETL_JOB_NO_WORKER once no worker has been connected for the connect timeout, leaving the job queued', async () => {
    const target = await createTarget('sqlite');
    const prefix = uniquePrefix();
    try {
      await copySample(join(target.dir, 'export'));
      const r = await runCli(['trigger', '--school', '8865', '--wait'], {
        ...target.env,
        CASES_DIRECTORY: join(target.dir, 'export'),
        REDIS_URL,
        ETL_QUEUE_PREFIX: prefix,
        ETL_REDIS_CONNECT_TIMEOUT_MS: '1000',
      });
      expect(r.code, r.stdout + r.stderr).toBe(1);
      const jobId =
        /^error ETL_JOB_NO_WORKER: job (\d+) is queued, but no worker has been connected to the queue for 1000 ms/m.exec(
          r.stderr,
        )?.[1];
      expect(jobId, r.stderr).toBeDefined();
      expect(r.stderr).toContain('fix: Start `cases-etl serve` (or `cases-etl worker`)');
      const queue = new Queue(QUEUE_NAME, { connection: { url: REDIS_URL }, prefix });
      try {
        expect(await queue.getJobState(jobId as string)).toBe('waiting');
      } finally {
        await queue.close();
      }
    } finally {
      await obliterate(prefix);
      await target.cleanup();
    }
  });

  it('waits on where Redis will not say which workers are connected (CLIENT LIST refused, as on some managed services)', async () => {
    const target = await createTarget('sqlite');
    const port = await closedPort();
    const redis = startRedisServer(port);
    try {
      // An ACL that refuses CLIENT LIST (NOPERM), as managed services' users often have.
      await eventually(
        async () =>
          (await new Promise<boolean>((resolve) =>
            execFile('redis-cli', ['-p', String(port), 'ACL', 'SETUSER', 'default', '-client|list'], (err, out) =>
              resolve(!err && out.trim() === 'OK'),
            ),
          ))
            ? true
            : undefined,
        10_000,
        'the ACL',
      );
      await copySample(join(target.dir, 'export'));
      const trigger = startCli(['trigger', '--school', '8865', '--wait'], {
        ...target.env,
        CASES_DIRECTORY: join(target.dir, 'export'),
        REDIS_URL: redis.url,
        ETL_REDIS_CONNECT_TIMEOUT_MS: '1000',
      });
      // Three times the timeout: it would have given up with ETL_JOB_NO_WORKER by now.
      const ended = await Promise.race([trigger.exited, new Promise((r) => setTimeout(() => r('waiting'), 3000))]);
      expect(ended, trigger.log()).toBe('waiting');
      expect(trigger.log()).not.toContain('ETL_JOB_NO_WORKER');
      await trigger.stop();
    } finally {
      redis.stop();
      await target.cleanup();
    }
  });
});
