import { describe, expect, it } from 'vitest';

import { loadConfig } from '../src/config/index.js';
import { isEtlError } from '../src/errors/index.js';

/** The problems loadConfig reports for `env`; [] when it loads. */
function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    if (isEtlError(err, 'ETL_CONFIG_INVALID')) return err.problems ?? [];
    throw err;
  }
}

describe('the configuration object', () => {
  // Test files are ES modules, so strict mode: writing to a frozen object throws instead of doing nothing.
  it('is frozen all the way down: nested objects and arrays throw when changed', () => {
    const config = loadConfig({ ETL_ADMIN_TOKENS: 'ops:0123456789abcdef', ETL_SCHOOLS: '8865' });
    expect(() => {
      (config.jobs as { redisUrl: string | null }).redisUrl = 'redis://elsewhere:6379';
    }).toThrow(TypeError);
    expect(() => (config.requiredTables as string[]).push('KGC')).toThrow(TypeError);
    expect(() => (config.jobs.schools as string[]).pop()).toThrow(TypeError);
    expect(() => {
      (config.http.adminTokens[0] as { token: string }).token = 'x';
    }).toThrow(TypeError);
    expect(() => {
      (config.database as { kind: string }).kind = 'postgres';
    }).toThrow(TypeError);
    expect(() => (config.notifications.on as string[]).splice(0)).toThrow(TypeError);
    expect(config.jobs.redisUrl).toBeNull();
    expect(config.requiredTables).toEqual(['ST', 'SF']);
  });

  it('gives every load its own values: freezing one does not reach into the defaults of the next', () => {
    const first = loadConfig({});
    const second = loadConfig({});
    expect(second.requiredTables).not.toBe(first.requiredTables);
    expect(second.notifications.on).toEqual(['succeeded', 'warning', 'failed', 'rolled_back']);
  });
});

describe('variables read by the schema', () => {
  it('checks the schedule with the cron parser BullMQ fires by, naming the field that is wrong', () => {
    const example = 'such as "0 2 * * *" (minute hour day-of-month month day-of-week) or "@daily"';
    expect(problemsOf({ ETL_SCHEDULE: '0 25 * * *' })).toEqual([
      `ETL_SCHEDULE="0 25 * * *" has a wrong hour field "25" (got value 25 expected range 0-23): ${example}`,
    ]);
    const wrong: Array<[string, string]> = [
      ['61 2 * * *', 'minute'],
      ['0 2 32 * *', 'day of month'],
      ['0 2 * 13 *', 'month'],
      ['0 2 * * 8', 'day of week'],
      ['0 2 * * mon-xyz', 'day of week'],
      ['abc 2 * * *', 'minute'],
    ];
    for (const [pattern, field] of wrong)
      expect(problemsOf({ ETL_SCHEDULE: pattern })[0], pattern).toContain(`has a wrong ${field} field`);
    expect(problemsOf({ ETL_SCHEDULE: '0 2 * *' })).toEqual([
      `ETL_SCHEDULE="0 2 * *" has 4 fields: give 5, ${example}`,
    ]);
    // Six fields are seconds first (the tests' per-second schedules).
    expect(problemsOf({ ETL_SCHEDULE: '99 0 2 * * *' })[0]).toContain('has a wrong second field "99"');
    expect(problemsOf({ ETL_SCHEDULE: '0 0 2 * * * *' })[0]).toContain('has 7 fields: give 5');
    expect(problemsOf({ ETL_SCHEDULE: 'nightly' })[0]).toContain('has 1 field: give 5');
    expect(loadConfig({ ETL_SCHEDULE: ' 30 3 * * 1-5 ' }).jobs.schedule).toBe('30 3 * * 1-5');
    for (const macro of ['@daily', '@hourly', '@weekly', '@monthly', '@yearly', '@annually', '@midnight', '@DAILY'])
      expect(loadConfig({ ETL_SCHEDULE: macro }).jobs.schedule, macro).toBe(macro.toLowerCase());
  });

  it('refuses a six-field schedule (seconds) unless ETL_SCHEDULE_SECONDS allows it', () => {
    expect(problemsOf({ ETL_SCHEDULE: '0 0 2 * * *' })).toEqual([
      'ETL_SCHEDULE="0 0 2 * * *" has 6 fields: the first would be seconds; give 5 (minute hour day-of-month month day-of-week), or set ETL_SCHEDULE_SECONDS=true to mean seconds',
    ]);
    expect(loadConfig({ ETL_SCHEDULE: '*/10 * * * * *', ETL_SCHEDULE_SECONDS: 'true' }).jobs.schedule).toBe(
      '*/10 * * * * *',
    );
    // Allowed or not, a wrong field is still named, and a bad switch is its own problem.
    expect(problemsOf({ ETL_SCHEDULE: '70 * * * * *', ETL_SCHEDULE_SECONDS: 'yes' })[0]).toContain(
      'has a wrong second field "70"',
    );
    expect(problemsOf({ ETL_SCHEDULE_SECONDS: 'maybe' })).toEqual([
      'ETL_SCHEDULE_SECONDS="maybe" must be true or false (also yes/no, 1/0, on/off)',
    ]);
    expect(loadConfig({ ETL_SCHEDULE: '0 2 * * *', ETL_SCHEDULE_SECONDS: 'off' }).jobs.schedule).toBe('0 2 * * *');
  });

  it('reports a bad database URL and a bad schema together, never echoing the URL', () => {
    expect(problemsOf({ DATABASE_URL: 'mysql://root:hunter2@db/cases', DATABASE_SCHEMA: 'Cases' })).toEqual([
      'DATABASE_URL must start with sqlite: or postgres:// (e.g. postgres://postgres@127.0.0.1:5432/cases)',
      'DATABASE_SCHEMA="Cases" must be a lower-case SQL name (letters, digits, _)',
    ]);
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/db', DATABASE_SCHEMA: 'etl' }).database).toEqual({
      kind: 'postgres',
      url: 'postgres://u@h/db',
      schema: 'etl',
      connectTimeoutMs: 10_000,
    });
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/db', ETL_DB_CONNECT_TIMEOUT_MS: '2500' }).database).toMatchObject(
      {
        connectTimeoutMs: 2500,
      },
    );
  });

  it('treats a blank variable as unset and reads numbers as digits only', () => {
    expect(loadConfig({ ETL_FILE_STABLE_MS: '   ', ETL_MAX_ERROR_RATE: '' })).toMatchObject({
      fileStableMs: 2000,
      maxErrorRate: 0.1,
    });
    expect(problemsOf({ ETL_ARCHIVE_DAYS: '1e3', ETL_JOB_ATTEMPTS: '0', ETL_RETRY_FACTOR: 'twice' })).toEqual([
      'ETL_ARCHIVE_DAYS="1e3" must be a whole number of 0 or more',
      'ETL_RETRY_FACTOR="twice" must be a number of 1 or more',
      'ETL_JOB_ATTEMPTS="0" must be a whole number of 1 or more',
    ]);
  });

  it('keeps an unset ETL_MAX_REJECT_LINE_BYTES within a smaller ETL_MAX_LINE_BYTES', () => {
    expect(loadConfig({ ETL_MAX_LINE_BYTES: '2048' }).lines).toEqual({ maxLineBytes: 2048, maxRejectLineBytes: 2048 });
    expect(problemsOf({ ETL_MAX_LINE_BYTES: '2048', ETL_MAX_REJECT_LINE_BYTES: '4096' })).toEqual([
      'ETL_MAX_REJECT_LINE_BYTES=4096 must be at most ETL_MAX_LINE_BYTES (2048)',
    ]);
  });

  it('builds the Redis URL from the seed variables, and checks the port', () => {
    expect(loadConfig({ REDIS_HOST: 'cache.lan' }).jobs.redisUrl).toBe('redis://cache.lan:6379');
    expect(loadConfig({ REDIS_HOST: '::1', REDIS_PORT: '6380' }).jobs.redisUrl).toBe('redis://[::1]:6380');
    expect(loadConfig({ REDIS_URL: 'rediss://cache:6380', REDIS_HOST: 'ignored' }).jobs.redisUrl).toBe(
      'rediss://cache:6380',
    );
    expect(problemsOf({ REDIS_HOST: 'cache.lan', REDIS_PORT: '70000' })).toEqual([
      'REDIS_PORT="70000" must be a port number',
    ]);
  });

  it('asks for SMTP_URL only when email has recipients, and not twice for a bad one', () => {
    expect(problemsOf({ ETL_NOTIFICATION_EMAIL: 'it@school.example.edu.au' })).toEqual([
      'ETL_NOTIFICATION_EMAIL is set but SMTP_URL is not (e.g. smtp://mail.school.vic.edu.au:25)',
    ]);
    expect(problemsOf({ ETL_NOTIFICATION_EMAIL: 'it@school.example.edu.au', SMTP_URL: 'mail:25' })).toEqual([
      'SMTP_URL must start with smtp:// or smtps://',
    ]);
  });
});
