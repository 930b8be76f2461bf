import cronParser from 'cron-parser';
import type { Queue } from 'bullmq';

import type { JobsConfig } from '../config/index.js';
import { NIGHTLY_JOB, SCHEDULER_ID, type NightlyJobData } from './names.js';

/**
 * The nightly schedule: a BullMQ job scheduler (not the legacy repeat option), registered with
 * upsertJobScheduler under one fixed id. Upserting is atomic on Redis, so restarts and several
 * `serve` processes starting together leave exactly one schedule, and a changed ETL_SCHEDULE
 * replaces the old one. Times are read in ETL_TIMEZONE by cron-parser, the parser BullMQ uses, so
 * what `schedule show` prints is what fires.
 */

/** The next `count` times the pattern fires after `from`. */
export function nextRunTimes(pattern: string, timezone: string, from: Date, count: number): Date[] {
  const it = cronParser.parseExpression(pattern, { currentDate: from, tz: timezone });
  const out: Date[] = [];
  for (let i = 0; i < count; i++) out.push(it.next().toDate());
  return out;
}

/** `at` as a local calendar date in `timezone`: YYYY-MM-DD. The night a scheduled run belongs to. */
export function localDate(at: Date, timezone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(at);
  return parts;
}

/** `at` as local time in `timezone`, e.g. `2026-10-04 03:00 AEDT`. */
export function localTime(at: Date, timezone: string): string {
  const f = new Intl.DateTimeFormat('en-AU', {
    timeZone: timezone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
  });
  return `${localDate(at, timezone)} ${f.format(at)}`;
}

/** The job options every ETL job gets: attempts with exponential backoff, bounded history. */
export function jobOptions(config: JobsConfig): {
  attempts: number;
  backoff: { type: 'exponential'; delay: number };
  removeOnComplete: { age: number; count: number };
  removeOnFail: { age: number; count: number };
} {
  return {
    attempts: config.attempts,
    backoff: { type: 'exponential', delay: config.backoffMs },
    // Completed jobs are kept a week: their ids make a second nightly fire on the same night a no-op.
    removeOnComplete: { age: 7 * 86_400, count: 10_000 },
    removeOnFail: { age: 30 * 86_400, count: 10_000 },
  };
}

/** Registers (or replaces) the nightly schedule. Returns the next job it will create. */
export async function registerSchedule(
  queue: Queue,
  config: JobsConfig,
): Promise<{ id: string; pattern: string; timezone: string; next: Date | null }> {
  const job = await queue.upsertJobScheduler(
    SCHEDULER_ID,
    { pattern: config.schedule, tz: config.timezone },
    { name: NIGHTLY_JOB, data: { trigger: 'schedule' } satisfies NightlyJobData, opts: jobOptions(config) },
  );
  const next = job?.timestamp !== undefined ? new Date(job.timestamp + (job.delay ?? 0)) : null;
  return { id: SCHEDULER_ID, pattern: config.schedule, timezone: config.timezone, next };
}

/** The schedule as Redis holds it, or null when none is registered. */
export async function registeredSchedule(
  queue: Queue,
): Promise<{ pattern: string | null; timezone: string | null; next: Date | null } | null> {
  const s = await queue.getJobScheduler(SCHEDULER_ID);
  if (!s) return null;
  return { pattern: s.pattern ?? null, timezone: s.tz ?? null, next: s.next ? new Date(s.next) : null };
}
