import { join } from 'node:path';

import type { Queue } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { triggerEtl, type App } from '../src/app/index.js';
import { generateSchool } from '../src/generate/index.js';
import { hasStackTrace, startCli, type CliChild } from './helpers/children.js';
import { eventually, jobApp, obliterate, REDIS_URL, settledJob, uniquePrefix } from './helpers/jobs.js';
import { readCsv } from './helpers/nights.js';
import { slackText, startWebhook, type Webhook } from './helpers/receivers.js';
import { createTarget, DIALECTS, type Probe, type Target } from './helpers/targets.js';

/**
 * A run that kills its worker: real `cases-etl worker` processes SIGKILLed in the middle of the
 * same job, twice. BullMQ hands the job on after the first death and gives it up after the second;
 * the third worker must tell Slack (a real loopback receiver) as of any job that gave up, and mark
 * the run the dead worker left running as failed, naming the job. No student's name goes out.
 */

describe.each(DIALECTS)('a job whose worker dies mid-run, twice, on %s', (dialect) => {
  let target: Target;
  let prefix: string;
  let slack: Webhook;
  let app: App;
  let probe: Probe;
  const children: CliChild[] = [];
  beforeEach(async () => {
    target = await createTarget(dialect);
    prefix = uniquePrefix();
    slack = await startWebhook();
  });
  afterEach(async () => {
    for (const c of children.splice(0)) await c.stop();
    await probe?.close();
    await app?.stop();
    await obliterate(prefix);
    await Promise.all([slack.close(), target.cleanup()]);
  });

  it('is given up, told on Slack naming the job, and its run is marked failed naming the job', async () => {
    const src = join(target.dir, 'export');
    await generateSchool({ outDir: src, students: 3000, seed: 17 });
    const env = {
      ...target.env,
      REDIS_URL,
      ETL_QUEUE_PREFIX: prefix,
      CASES_DIRECTORY: src,
      // A dead worker's job is taken back once its lock has lapsed; the stall check runs as often.
      ETL_JOB_LOCK_MS: '1500',
      SLACK_WEBHOOK_URL: slack.url,
      PORT: '0',
      HOST: '127.0.0.1',
    };
    const worker = (): CliChild => {
      const c = startCli(['worker'], env);
      children.push(c);
      return c;
    };
    app = await jobApp(target, { CASES_DIRECTORY: src, ETL_QUEUE_PREFIX: prefix });
    probe = await target.probe();
    /** Kills `w` with SIGKILL as soon as it has a run of the job in progress. */
    const killMidRun = async (w: CliChild, jobId: string): Promise<void> => {
      await eventually(
        async () => {
          // Both ids are digits (BullMQ's counter, a pid): written into the SQL, which both dialects read alike.
          expect(jobId).toMatch(/^\d+$/);
          const rows = await probe.all(
            `SELECT id FROM etl_runs WHERE status = 'running' AND job_id = '${jobId}' AND pid = ${w.pid}`,
          );
          return rows.length > 0 ? true : undefined;
        },
        60_000,
        `a run of job ${jobId} by worker ${w.pid}`,
      );
      w.child.kill('SIGKILL');
      expect(await w.exited).toBeNull();
    };

    const first = worker();
    const { jobs } = await triggerEtl({ app, school: '8865' });
    const jobId = jobs[0]?.jobId as string;
    await killMidRun(first, jobId);
    await killMidRun(worker(), jobId);
    const third = worker();

    const failed = await settledJob(app.queue as Queue, jobId, 'failed', 60_000);
    expect(failed.failedReason).toBe('job stalled more than allowable limit');
    await eventually(async () => (slack.requests.length > 0 ? true : undefined), 20_000, 'the Slack message');
    await new Promise((r) => setTimeout(r, 500));
    expect(slack.requests).toHaveLength(1);
    const text = slackText(slack.requests[0]?.body as Record<string, unknown>);
    expect(text).toContain('CASES21 load of school 8865 could not run');
    expect(text).toContain('The run gave up after 2 attempts');
    expect(text).toContain(`*Job*\n${jobId}`);
    expect(text).toContain(`ETL_JOB_STALLED: the worker running job ${jobId} stopped before it finished, 2 times`);

    // Each dead worker's run is failed, the last one's by the worker that gave the job up, naming the
    // job. The first may have been marked by the second worker's run already, as any interrupted run
    // is, unless that worker died before it got so far.
    const runs = await eventually(async () => {
      const r = await app.store.listRuns({ school: '8865', limit: 5 });
      return r.every((x) => x.status !== 'running') ? r : undefined;
    });
    expect(runs.map((r) => [r.status, r.jobId, r.errorCode])).toEqual([
      ['failed', jobId, 'ETL_RUN_INTERRUPTED'],
      ['failed', jobId, 'ETL_RUN_INTERRUPTED'],
    ]);
    const stalledReason =
      `interrupted: the worker running job ${jobId} stopped before it finished, 2 times (killed, out of memory, ` +
      'or its machine restarted), so the job was given up (ETL_JOB_STALLED); nothing it did was published';
    expect(runs[0]?.reason).toBe(stalledReason);
    expect(runs[1]?.reason).toMatch(/^interrupted: /);
    const marked = runs.filter((r) => r.reason === stalledReason).map((r) => r.id);
    expect(text).toContain(
      `; ${marked.length === 1 ? 'run' : 'runs'} ${marked.sort((a, b) => a - b).join(', ')} marked failed in the ledger`,
    );
    expect(third.log()).toMatch(/"code":"ETL_JOB_STALLED".*"msg":"job given up: its worker stopped mid-run"/);

    // Names, never values: no student's name in the message or in the log of the worker that told.
    const st = await readCsv(join(src, 'ST_8865.csv'));
    const col = (name: string): number => st.header.indexOf(name);
    const names = [...new Set(st.rows.flatMap((r) => [r[col('SURNAME')], r[col('FIRST_NAME')]]))].filter(
      (v): v is string => !!v && v.length >= 5,
    );
    expect(names.length).toBeGreaterThan(100);
    const told = slack.requests[0]?.raw ?? '';
    for (const name of names) {
      expect(told.includes(name), `${name} was sent`).toBe(false);
      expect(third.log().includes(name), `${name} was logged`).toBe(false);
    }
    expect(hasStackTrace(third.log())).toBe(false);
  }, 180_000);
});
