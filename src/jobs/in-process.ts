import { setTimeout as sleep } from 'node:timers/promises';

import type { Logger } from '../observability/index.js';
import { runEtl } from '../pipeline/index.js';
import { isRetryableError } from './errors.js';
import { localDate, nextRunTimes } from './schedule.js';
import {
  logFailedDeliveries,
  scheduledSchools,
  tellNightStartedNothing,
  tellRunCouldNotRun,
  type JobContext,
} from './worker.js';
import { coerceError } from '../errors/index.js';

/** setTimeout cannot wait longer than this (about 24.8 days); longer waits are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface InProcessScheduler {
  /** When the schedule fires next. */
  readonly next: () => Date;
  stop(): Promise<void>;
}

/**
 * The schedule without Redis: the same cron pattern, time zone and retry policy as the BullMQ
 * path, in this process. Each school runs at most once per local night, and a run that fails on
 * infrastructure is retried with exponential backoff; a failed run (bad data) is not.
 */
export function startInProcessScheduler(ctx: Omit<JobContext, 'queue'>, logger: Logger): InProcessScheduler {
  const { schedule, timezone, attempts, backoffMs } = ctx.config.jobs;
  const done = new Set<string>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  let nextAt = nextRunTimes(schedule, timezone, new Date(), 1)[0] as Date;

  async function runSchool(school: string, night: string): Promise<void> {
    const key = `${school}:${night}`;
    if (done.has(key)) return;
    done.add(key);
    let delay = backoffMs;
    for (let attempt = 1; attempt <= attempts && !stopped; attempt++) {
      try {
        const result = await runEtl({
          config: ctx.config,
          store: ctx.store,
          layouts: ctx.layouts,
          notifier: ctx.notifier,
          school,
          trigger: 'schedule',
        });
        logger.info({ school, night, runId: result.runId, status: result.status }, 'scheduled run finished');
        logFailedDeliveries(logger, result.notifications);
        return;
      } catch (err) {
        const retry = attempt < attempts && isRetryableError(err);
        logger.warn({ school, night, attempt, error: coerceError(err).message, retry }, 'scheduled run failed');
        if (!retry) {
          await tellRunCouldNotRun(
            { notifier: ctx.notifier, logger },
            { school, attempts: attempt, error: coerceError(err).message, jobId: null },
          );
          return;
        }
        await sleep(delay);
        delay *= 2;
      }
    }
  }

  async function fire(at: Date): Promise<void> {
    const night = localDate(at, timezone);
    let schools: string[];
    try {
      schools = await scheduledSchools(ctx);
    } catch (err) {
      await tellNightStartedNothing({ ...ctx, logger }, night, coerceError(err).message);
      throw err;
    }
    if (schools.length === 0)
      await tellNightStartedNothing({ ...ctx, logger }, night, 'no CASES21 files were found in the export folder');
    // Schools run one after another here; the queue is what spreads them over workers.
    for (const school of schools) if (!stopped) await runSchool(school, night);
  }

  function arm(): void {
    if (stopped) return;
    const wait = nextAt.getTime() - Date.now();
    timer = setTimeout(
      () => {
        if (Date.now() < nextAt.getTime()) return arm();
        const at = nextAt;
        nextAt = nextRunTimes(schedule, timezone, new Date(at.getTime() + 1000), 1)[0] as Date;
        current = fire(at).catch((err: unknown) =>
          logger.error({ error: coerceError(err).message }, 'scheduled night failed'),
        );
        arm();
      },
      Math.max(0, Math.min(wait, MAX_TIMER_MS)),
    );
  }
  arm();

  return {
    next: () => nextAt,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await current;
    },
  };
}
