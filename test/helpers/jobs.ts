import { randomUUID } from 'node:crypto';
import { createServer, Socket, type Server } from 'node:net';

import { Job, Queue } from 'bullmq';

import { createApp, type App } from '../../src/app/index.js';
import { QUEUE_NAME } from '../../src/jobs/index.js';
import { createLogger } from '../../src/observability/logger.js';
import type { Target } from './targets.js';

export const REDIS_URL = 'redis://127.0.0.1:6379';

/** A queue prefix no other test uses. */
export function uniquePrefix(): string {
  return `t-${randomUUID().slice(0, 8)}`;
}

/** An App on the target's database and the local Redis (connected before it is returned), with a silent logger. */
export async function jobApp(target: Target, env: Record<string, string>): Promise<App> {
  return createApp(target.config({ REDIS_URL, ...env }), {
    logger: createLogger({ level: 'silent' }),
    waitForRedis: true,
  });
}

/** Removes every key of a test prefix. */
export async function obliterate(prefix: string): Promise<void> {
  const q = new Queue(QUEUE_NAME, { connection: { url: REDIS_URL }, prefix });
  await q.obliterate({ force: true }).catch(() => undefined);
  await q.close();
}

/** Polls `check` until it returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Waits for a job to reach `state` and returns it as stored then. The state is read first and
 * the job fetched after: a job fetched while active and found completed a moment later would
 * carry no return value.
 */
export function settledJob(
  queue: Queue,
  jobId: string,
  state: 'completed' | 'failed',
  timeoutMs = 30_000,
): Promise<Job> {
  return eventually(
    async () => {
      if ((await queue.getJobState(jobId)) !== state) return undefined;
      return (await Job.fromId(queue, jobId)) ?? undefined;
    },
    timeoutMs,
    `job ${jobId} to be ${state}`,
  );
}

/**
 * A TCP proxy in front of PostgreSQL that can drop every open connection and refuse the next
 * `n` ones, as a database restart would.
 */
export interface FlakyProxy {
  readonly port: number;
  /** Drops the open connections and refuses the next `n` new ones. */
  fail(n: number): void;
  /** Connections refused so far. */
  readonly refused: () => number;
  close(): Promise<void>;
}

export async function startFlakyProxy(targetPort = 5432): Promise<FlakyProxy> {
  const sockets = new Set<Socket>();
  let toRefuse = 0;
  let refused = 0;
  const server: Server = createServer((client) => {
    if (toRefuse > 0) {
      toRefuse--;
      refused++;
      client.destroy();
      return;
    }
    const upstream = new Socket();
    upstream.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    fail(n) {
      toRefuse = n;
      for (const s of sockets) s.destroy();
    },
    refused: () => refused,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
