import { createServer, type Server } from 'node:net';
import { join } from 'node:path';

import { Queue } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { enqueueRun, QUEUE_NAME } from '../src/jobs/index.js';
import { closedPort, hasStackTrace, startCli, startRedisServer } from './helpers/children.js';
import { eventually, settledJob, uniquePrefix } from './helpers/jobs.js';
import { copySample } from './helpers/nights.js';
import { createTarget, type Target } from './helpers/targets.js';

/**
 * `cases-etl worker` answers /livez, /readyz and /metrics on HOST:PORT from the start, as serve
 * does: while Redis is not there it says so (once, not once per reconnection attempt), and when a
 * real redis-server appears on the port it becomes ready and takes a queued run.
 */

describe('cases-etl worker over HTTP', () => {
  let target: Target;
  let src: string;
  beforeEach(async () => {
    target = await createTarget('sqlite');
    src = join(target.dir, 'export');
    await copySample(src);
  });
  afterEach(() => target.cleanup());

  it('answers at once, is not ready while Redis is down, then becomes ready and runs a queued job', async () => {
    const redisPort = await closedPort();
    const prefix = uniquePrefix();
    const worker = startCli(['worker'], {
      ...target.env,
      CASES_DIRECTORY: src,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      ETL_QUEUE_PREFIX: prefix,
      ETL_REDIS_CONNECT_TIMEOUT_MS: '500',
      PORT: '0',
      HOST: '127.0.0.1',
    });
    let redis: ReturnType<typeof startRedisServer> | null = null;
    try {
      const started = Date.now();
      const address = await worker.address();
      expect(Date.now() - started).toBeLessThan(10_000);
      expect((await fetch(`http://${address}/livez`)).status).toBe(200);
      const notReady = await fetch(`http://${address}/readyz`);
      expect(notReady.status).toBe(503);
      const body = (await notReady.json()) as { status: string; checks: Record<string, string> };
      expect(body.status).toBe('not ready');
      expect(body.checks.redis).toMatch(/^unavailable \(/);
      expect(body.checks.database).toBe('ok');
      const scrape = await fetch(`http://${address}/metrics`);
      expect(scrape.status).toBe(200);
      expect(await scrape.text()).toMatch(/^cases_etl_queue_up 0$/m);
      // Probes and metrics only: the dashboard and the API (trigger, rollback) stay with serve.
      for (const path of ['/dashboard', '/api/cases-etl/runs'])
        expect((await fetch(`http://${address}${path}`)).status, path).toBe(404);
      // Reconnection attempts go on (every 200 ms at first): the loss is said once, not per attempt.
      await new Promise((r) => setTimeout(r, 1500));
      expect(worker.log().match(/Redis unavailable/g)?.length).toBeLessThanOrEqual(2);
      expect(worker.log()).not.toContain('worker started');
      expect(worker.log()).not.toContain('worker error');

      redis = startRedisServer(redisPort);
      await eventually(
        async () => ((await fetch(`http://${address}/readyz`)).status === 200 ? true : undefined),
        20_000,
        '/readyz to turn 200',
      );
      await eventually(async () => (worker.log().includes('worker started') ? true : undefined), 10_000, 'the worker');
      const queue = new Queue(QUEUE_NAME, { connection: { url: redis.url }, prefix });
      try {
        const config = target.config({ CASES_DIRECTORY: src, ETL_QUEUE_PREFIX: prefix });
        const { jobId } = await enqueueRun(queue, config.jobs, { school: '8865', force: false, trigger: 'manual' });
        const done = await settledJob(queue, jobId, 'completed', 30_000);
        expect(done.returnvalue).toMatchObject({ school: '8865', status: 'succeeded' });
      } finally {
        await queue.close();
      }
      expect(worker.log()).toContain('Redis connection restored');
      expect(worker.log()).not.toContain('worker error');
      expect(hasStackTrace(worker.log())).toBe(false);
    } finally {
      expect(await worker.stop()).toBe(0);
      redis?.stop();
    }
  });

  it('ends at once with ETL_HTTP_LISTEN_FAILED, exit 2, when its port is taken', async () => {
    const holder: Server = createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
    const { port } = holder.address() as { port: number };
    try {
      const started = Date.now();
      const worker = startCli(['worker'], {
        ...target.env,
        CASES_DIRECTORY: src,
        REDIS_URL: 'redis://127.0.0.1:6379',
        ETL_QUEUE_PREFIX: uniquePrefix(),
        PORT: String(port),
        HOST: '127.0.0.1',
      });
      const code = await Promise.race([
        worker.exited,
        new Promise<'hung'>((r) => setTimeout(() => r('hung'), 15_000).unref()),
      ]);
      if (code === 'hung') await worker.stop();
      expect(code, worker.log()).toBe(2);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(worker.log()).toContain(
        `error ETL_HTTP_LISTEN_FAILED: HTTP cannot listen on 127.0.0.1:${port}: another process is listening on that port`,
      );
      expect(worker.log()).toContain('  fix: Set PORT to a port nothing else holds');
      expect(hasStackTrace(worker.log())).toBe(false);
    } finally {
      await new Promise((r) => holder.close(r));
    }
  });
});
