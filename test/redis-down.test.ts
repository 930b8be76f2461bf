import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { Queue } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { QUEUE_NAME } from '../src/jobs/index.js';
import { CLI, runCli } from './helpers/cli.js';
import { closedPort } from './helpers/children.js';
import { eventually, uniquePrefix } from './helpers/jobs.js';
import { copySample } from './helpers/nights.js';
import { createTarget, type Target } from './helpers/targets.js';

/**
 * An unattended service must never hang on a Redis that is not there. One-off commands give up
 * after ETL_REDIS_CONNECT_TIMEOUT_MS with ETL_REDIS_UNAVAILABLE; `serve` opens HTTP at once,
 * says why it is not ready, and registers the schedule when Redis appears. Real closed ports
 * and a real redis-server started mid-test.
 */

/** No line of a stack trace: what a user sees is the coded error, its message and its fix. */
function expectNoStack(text: string): void {
  for (const line of text.split('\n')) {
    expect(line.trimStart().startsWith('at ')).toBe(false);
    expect(line).not.toContain('node_modules/');
  }
}

describe('Redis that is not there', () => {
  let target: Target;
  let src: string;
  beforeEach(async () => {
    target = await createTarget('sqlite');
    src = join(target.dir, 'export');
    await copySample(src);
  });
  afterEach(async () => {
    await target.cleanup();
  });

  it('trigger, trigger --wait and schedule show give up with ETL_REDIS_UNAVAILABLE, never showing the password', async () => {
    const port = await closedPort();
    const env = {
      ...target.env,
      CASES_DIRECTORY: src,
      REDIS_URL: `redis://:sekrit-pw@127.0.0.1:${port}`,
      ETL_REDIS_CONNECT_TIMEOUT_MS: '800',
    };
    for (const args of [
      ['trigger', '--school', '8865'],
      ['trigger', '--school', '8865', '--wait'],
      ['schedule', 'show'],
    ]) {
      const started = Date.now();
      const r = await runCli(args, env);
      const out = r.stdout + r.stderr;
      expect(r.code, `${args.join(' ')}: ${out}`).toBe(1);
      expect(Date.now() - started).toBeLessThan(8000);
      expect(r.stderr).toContain('ETL_REDIS_UNAVAILABLE');
      expect(r.stderr).toContain(`redis://127.0.0.1:${port}`);
      expect(r.stderr).toContain('REDIS_URL');
      expect(out).not.toContain('sekrit-pw');
      expectNoStack(out);
    }
    // Nothing could be queued, so nothing was opened: no database file was made.
    expect(existsSync(join(target.dir, 'cases-etl.db'))).toBe(false);
  });

  it('serve answers HTTP at once, is not ready while Redis is down, and registers the schedule when it comes', async () => {
    const redisPort = await closedPort();
    const prefix = uniquePrefix();
    const child = spawn(process.execPath, [CLI, 'serve'], {
      env: {
        ...process.env,
        ...target.env,
        CASES_DIRECTORY: src,
        REDIS_URL: `redis://127.0.0.1:${redisPort}`,
        ETL_QUEUE_PREFIX: prefix,
        ETL_REDIS_CONNECT_TIMEOUT_MS: '500',
        PORT: '0',
        HOST: '127.0.0.1',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    let redis: ReturnType<typeof spawn> | null = null;
    try {
      const address = await eventually(async () => /"address":"([^"]+)"/.exec(log)?.[1], 20_000, 'serve to listen');
      expect((await fetch(`http://${address}/livez`)).status).toBe(200);
      const notReady = await fetch(`http://${address}/readyz`);
      expect(notReady.status).toBe(503);
      expect(((await notReady.json()) as { checks: Record<string, string> }).checks.redis).toMatch(/^unavailable/);
      // A scrape does not wait for the queue either.
      const scrape = await fetch(`http://${address}/metrics`);
      expect(scrape.status).toBe(200);
      expect(await scrape.text()).toMatch(/^cases_etl_queue_up 0$/m);
      // Said once, not once per reconnection attempt.
      expect(log.match(/Redis unavailable/g)?.length).toBeLessThanOrEqual(2);
      // HTTP first, without waiting out Redis's first seconds; the warning names no setting it did not use.
      await eventually(
        async () => (log.includes('Redis unavailable: HTTP is up') ? true : undefined),
        10_000,
        'the warning',
      );
      expect(log.indexOf('HTTP listening')).toBeGreaterThanOrEqual(0);
      expect(log.indexOf('HTTP listening')).toBeLessThan(log.indexOf('Redis unavailable: HTTP is up'));
      expect(log).not.toContain('(ETL_REDIS_CONNECT_TIMEOUT_MS)');

      redis = spawn(
        'redis-server',
        ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        {
          stdio: 'ignore',
        },
      );
      // Reconnection backs off to at most 5 s between attempts.
      await eventually(
        async () => ((await fetch(`http://${address}/readyz`)).status === 200 ? true : undefined),
        20_000,
        '/readyz to turn 200',
      );
      await eventually(
        async () => (log.includes('nightly schedule registered') ? true : undefined),
        10_000,
        'the schedule',
      );
      const queue = new Queue(QUEUE_NAME, { connection: { url: `redis://127.0.0.1:${redisPort}` }, prefix });
      try {
        expect(await queue.getJobSchedulersCount()).toBe(1);
      } finally {
        await queue.close();
      }
      expect(log).toContain('Redis connection restored');
      expectNoStack(log);
    } finally {
      child.kill('SIGTERM');
      await exited;
      redis?.kill('SIGKILL');
    }
  });
});
