import { hostname } from 'node:os';
import { resolve } from 'node:path';

import { EtlError } from '../errors/index.js';
import { hostNameOf } from '../util/index.js';
import { notificationConfig, type NotificationConfig } from './notifications.js';

export { NOTIFY_ON, type NotificationConfig, type NotifyOn } from './notifications.js';

/**
 * The one typed configuration, built from the environment once at start-up. Every variable is
 * described in VARIABLES (the README's configuration table is checked against it), every problem
 * is reported together, and the result is frozen. No other module reads process.env.
 */
export interface Config {
  /** Folder CASES21 drops its nightly export into (CASES_DIRECTORY); null until set or passed as --source. */
  readonly sourceDirectory: string | null;
  /** relationships.json path (CASES_RELATIONSHIPS_JSON), default ./relationships.json. */
  readonly relationshipsPath: string;
  /** Whether relationships.json was named explicitly: then a missing file is an error, not "built-ins only". */
  readonly relationshipsExplicit: boolean;
  /** School id for fixed-width files, which carry none in their name (CASES_SCHOOL_ID). */
  readonly schoolId: string | null;
  /** Base tables a run must have (ETL_REQUIRED_TABLES), default ST and SF. */
  readonly requiredTables: readonly string[];
  /** A file whose size or mtime changed within this many milliseconds is still being written (ETL_FILE_STABLE_MS), default 2000. */
  readonly fileStableMs: number;
  /** Longest wait, in milliseconds, for a changing file to settle before it is skipped (ETL_FILE_STABLE_TIMEOUT_MS), default 60000. */
  readonly fileStableTimeoutMs: number;
  /** Share of rejected rows above which a run fails (ETL_MAX_ERROR_RATE), 0–1, default 0.10. */
  readonly maxErrorRate: number;
  /** Largest share a full file's row count may shrink by against the last published load (ETL_MAX_SHRINK), 0–1, default 0.5. */
  readonly maxShrink: number;
  /** Database: `sqlite:PATH` or `postgres://…` (DATABASE_URL); default SQLite at ./data/cases-etl.db. */
  readonly database: DatabaseConfig;
  /** Where published files are copied (CASES_ARCHIVE_DIRECTORY); null disables archiving. */
  readonly archiveDirectory: string | null;
  /** Archives older than this many days are pruned after a published run (ETL_ARCHIVE_DAYS), default 30. */
  readonly archiveDays: number;
  /** Retry policy for directory access and file reads (ETL_RETRY_ATTEMPTS, ETL_RETRY_DELAY_MS, ETL_RETRY_FACTOR). */
  readonly retry: RetryConfig;
  /** Longest wait, in ms, for another process's run of the same school to finish (ETL_LOCK_TIMEOUT_MS), default 600000. */
  readonly lockTimeoutMs: number;
  /** Rejects stored per file in etl_rejects; the rest are counted (ETL_MAX_STORED_REJECTS), default 10000. */
  readonly maxStoredRejects: number;
  /** Published runs per school whose change history is kept for rollback (ETL_SNAPSHOT_RETENTION), default 30. */
  readonly snapshotRetention: number;
  /** How much of a source line is read and how much of a rejected one is kept. */
  readonly lines: LineLimits;
  /** The job queue and its schedule. */
  readonly jobs: JobsConfig;
  /** The HTTP server of `serve`. */
  readonly http: HttpConfig;
  /** Slack, Teams and email notifications of run outcomes. */
  readonly notifications: NotificationConfig;
}

export interface JobsConfig {
  /** Redis connection URL (REDIS_URL, or REDIS_HOST and REDIS_PORT); null runs without Redis. */
  readonly redisUrl: string | null;
  /** BullMQ key prefix (ETL_QUEUE_PREFIX), default `bull`. */
  readonly prefix: string;
  /** Cron pattern of the nightly run (ETL_SCHEDULE), default `0 2 * * *`. */
  readonly schedule: string;
  /** IANA time zone the pattern is read in (ETL_TIMEZONE), default Australia/Melbourne. */
  readonly timezone: string;
  /** Schools a scheduled run covers (ETL_SCHOOLS); null means every school in the export folder. */
  readonly schools: readonly string[] | null;
  /** Schools one worker runs at once (ETL_WORKER_CONCURRENCY), default 1. */
  readonly concurrency: number;
  /** Attempts per job, the first included (ETL_JOB_ATTEMPTS), default 3. */
  readonly attempts: number;
  /** First retry delay of a job in ms, doubling each time (ETL_JOB_BACKOFF_MS), default 30000. */
  readonly backoffMs: number;
  /** How long a worker's job lock lasts unrenewed, in ms (ETL_JOB_LOCK_MS), default 30000; a dead worker's job is retried after it. */
  readonly lockMs: number;
  /** How long SIGTERM waits for the current run before exiting, in ms (ETL_SHUTDOWN_TIMEOUT_MS), default 60000. */
  readonly shutdownTimeoutMs: number;
}

export interface HttpConfig {
  /** TCP port (PORT), default 3000. */
  readonly port: number;
  /** Listen address (HOST), default 127.0.0.1. */
  readonly host: string;
  /** Bearer tokens allowed to trigger and roll back (ETL_ADMIN_TOKENS, comma-separated `name:token` or `token`). */
  readonly adminTokens: ReadonlyArray<{ readonly name: string; readonly token: string }>;
  /** The address people reach serve at, e.g. through a proxy (ETL_PUBLIC_URL, http or https); null when not set. */
  readonly publicUrl: string | null;
  /**
   * Host names a request's Host header may name, port ignored (ETL_ALLOWED_HOSTS); null (`*`) allows any.
   * Default: HOST (unless 0.0.0.0 or ::), localhost, 127.0.0.1, ::1 and ETL_PUBLIC_URL's host. Refusing
   * the rest stops DNS rebinding: a page elsewhere cannot reach a loopback-bound dashboard by a name of its own.
   */
  readonly allowedHosts: readonly string[] | null;
}

export interface LineLimits {
  /**
   * Longest line read, in UTF-8 bytes of its text (ETL_MAX_LINE_BYTES), default 1 MiB. A longer
   * line is one ETL_PARSE_LINE_TOO_LONG reject, skipped without being held in memory.
   */
  readonly maxLineBytes: number;
  /**
   * Bytes of a rejected line kept in etl_rejects.original_line (ETL_MAX_REJECT_LINE_BYTES),
   * default 4 KiB; the line's full length is stored beside it. At most maxLineBytes.
   */
  readonly maxRejectLineBytes: number;
}

/** ETL_MAX_LINE_BYTES's default: 1 MiB, far beyond any real eduHub row (a few KiB at most). */
export const DEFAULT_MAX_LINE_BYTES = 1 << 20;
/** ETL_MAX_REJECT_LINE_BYTES's default: 4 KiB, a whole ordinary row. */
export const DEFAULT_MAX_REJECT_LINE_BYTES = 4096;
/** The smallest ETL_MAX_LINE_BYTES accepted: below this, ordinary rows would be refused. */
const MIN_LINE_BYTES = 1024;

export type DatabaseConfig =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string; readonly schema: string };

export interface RetryConfig {
  /** Attempts in all, including the first (default 3). */
  readonly attempts: number;
  /** Delay before the first retry in ms (default 1000); each later delay is `factor` times longer. */
  readonly delayMs: number;
  /** Growth of the delay between retries (default 2). */
  readonly factor: number;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

export interface Variable {
  readonly name: string;
  readonly description: string;
  readonly default: string;
}

/** Every environment variable cases-etl reads, for docs and `--help`. */
export const VARIABLES: readonly Variable[] = [
  {
    name: 'CASES_DIRECTORY',
    default: '(none; or --source)',
    description: 'Folder the nightly CASES21 export is written to.',
  },
  {
    name: 'CASES_RELATIONSHIPS_JSON',
    default: './relationships.json',
    description:
      'relationships.json with primary_keys, relationships and optional file_layouts. The default path may be absent (built-in layouts only); a path you set must exist.',
  },
  {
    name: 'CASES_SCHOOL_ID',
    default: '(none)',
    description:
      "School number for fixed-width .DAT files, whose names carry none. Falls back to the site in the layout's table_name.",
  },
  {
    name: 'ETL_REQUIRED_TABLES',
    default: 'ST,SF',
    description: 'Comma-separated tables an export must contain; layouts marked "required": true are added.',
  },
  {
    name: 'ETL_FILE_STABLE_MS',
    default: '2000',
    description: 'A file modified this recently is re-checked until its size and mtime stop changing.',
  },
  {
    name: 'ETL_FILE_STABLE_TIMEOUT_MS',
    default: '60000',
    description: 'How long to wait for a changing file before skipping it for this run.',
  },
  {
    name: 'ETL_MAX_ERROR_RATE',
    default: '0.10',
    description: 'Share of rejected rows (0–1) above which a run is failed, for the run and for each table.',
  },
  {
    name: 'ETL_MAX_SHRINK',
    default: '0.5',
    description:
      "Largest share (0–1) a full file's row count may shrink by against the same table's last published load.",
  },
  {
    name: 'DATABASE_URL',
    default: '(SQLite at ./data/cases-etl.db)',
    description: 'sqlite:PATH for the embedded database, or postgres://user@host:5432/db for PostgreSQL.',
  },
  {
    name: 'DATABASE_SCHEMA',
    default: 'public',
    description: 'PostgreSQL schema for the mirror tables, views and ledger (created if missing).',
  },
  {
    name: 'CASES_ARCHIVE_DIRECTORY',
    default: '(none: no archive)',
    description: 'Published files are copied to <dir>/<school>/<timestamp>/ with a manifest.json.',
  },
  {
    name: 'ETL_ARCHIVE_DAYS',
    default: '30',
    description: 'Archives older than this many days are pruned after each published run.',
  },
  {
    name: 'ETL_RETRY_ATTEMPTS',
    default: '3',
    description:
      'Attempts for directory access and file reads (and, in jobs, infrastructure failures), including the first.',
  },
  {
    name: 'ETL_RETRY_DELAY_MS',
    default: '1000',
    description: 'Delay before the first retry; each later one is ETL_RETRY_FACTOR times longer.',
  },
  { name: 'ETL_RETRY_FACTOR', default: '2', description: 'Growth of the retry delay (exponential backoff).' },
  {
    name: 'ETL_LOCK_TIMEOUT_MS',
    default: '600000',
    description: 'Longest wait for another run of the same school to finish before giving up.',
  },
  {
    name: 'ETL_MAX_STORED_REJECTS',
    default: '10000',
    description: 'Rejects stored per file in etl_rejects; beyond this they are counted only.',
  },
  {
    name: 'REDIS_URL',
    default: '(none)',
    description:
      'Redis for the job queue, e.g. redis://127.0.0.1:6379. Without Redis (and without REDIS_HOST), serve schedules in-process and trigger runs the ETL directly.',
  },
  { name: 'REDIS_HOST', default: '(none)', description: "The seed's alternative to REDIS_URL, with REDIS_PORT." },
  { name: 'REDIS_PORT', default: '6379', description: 'Port for REDIS_HOST.' },
  {
    name: 'ETL_QUEUE_PREFIX',
    default: 'bull',
    description: 'BullMQ key prefix, to share one Redis between deployments.',
  },
  { name: 'ETL_SCHEDULE', default: '0 2 * * *', description: 'Cron pattern of the nightly run.' },
  {
    name: 'ETL_TIMEZONE',
    default: 'Australia/Melbourne',
    description: 'Time zone the schedule is read in (IANA name).',
  },
  {
    name: 'ETL_SCHOOLS',
    default: '(every school in the folder)',
    description: 'Comma-separated school numbers a scheduled run covers.',
  },
  { name: 'ETL_WORKER_CONCURRENCY', default: '1', description: 'Schools one worker process runs at once.' },
  {
    name: 'ETL_JOB_ATTEMPTS',
    default: '3',
    description: 'Attempts per job for infrastructure failures; bad data and tripped guard rails fail once.',
  },
  {
    name: 'ETL_JOB_BACKOFF_MS',
    default: '30000',
    description: "Delay before a job's first retry; it doubles each time.",
  },
  {
    name: 'ETL_JOB_LOCK_MS',
    default: '30000',
    description: 'Job lock lifetime; a job whose worker died is retried after it.',
  },
  {
    name: 'ETL_SHUTDOWN_TIMEOUT_MS',
    default: '60000',
    description:
      'On SIGTERM, how long to wait for the current run before exiting (an unfinished run publishes nothing).',
  },
  { name: 'PORT', default: '3000', description: 'HTTP port of serve.' },
  { name: 'HOST', default: '127.0.0.1', description: 'HTTP listen address of serve.' },
  {
    name: 'ETL_ADMIN_TOKENS',
    default: '(none)',
    description: 'Comma-separated bearer tokens (name:token or token) allowed to trigger runs over HTTP.',
  },
  {
    name: 'ETL_PUBLIC_URL',
    default: '(none)',
    description: "The http(s) address people reach serve at, such as a proxy's; its host is allowed in Host headers.",
  },
  {
    name: 'ETL_ALLOWED_HOSTS',
    default: "HOST, localhost, 127.0.0.1, ::1 and ETL_PUBLIC_URL's host",
    description:
      'Comma-separated host names (a port is ignored) HTTP requests may name in their Host header; others get 421, which stops DNS rebinding. * allows any. A HOST of 0.0.0.0 or :: is not a name and is left out.',
  },
  {
    name: 'SLACK_WEBHOOK_URL',
    default: '(none: no Slack)',
    description: 'Slack incoming webhook URL; run outcomes are posted as Block Kit messages.',
  },
  {
    name: 'TEAMS_WEBHOOK_URL',
    default: '(none: no Teams)',
    description: 'Microsoft Teams Workflows webhook URL; run outcomes are posted as Adaptive Cards.',
  },
  {
    name: 'ETL_NOTIFICATION_EMAIL',
    default: '(none: no email)',
    description: 'Comma-separated email addresses told of run outcomes; needs SMTP_URL.',
  },
  {
    name: 'SMTP_URL',
    default: '(none)',
    description: 'Mail server for notification email: smtp://host:25, or smtps://user:password@host:465.',
  },
  {
    name: 'ETL_NOTIFICATION_FROM',
    default: 'cases-etl@<host name>',
    description: 'From address of notification email.',
  },
  {
    name: 'ETL_NOTIFY_ON',
    default: 'succeeded,warning,failed,rolled_back',
    description:
      'Outcomes that are notified (comma-separated), or none. A run that could not run at all counts as failed.',
  },
  {
    name: 'ETL_NOTIFY_TIMEOUT_MS',
    default: '10000',
    description:
      'Longest wait for one delivery attempt; failed deliveries are retried as ETL_RETRY_* says, and never fail a run.',
  },
  {
    name: 'ETL_MAX_LINE_BYTES',
    default: '1048576',
    description:
      'Longest line read (bytes); a longer line is one ETL_PARSE_LINE_TOO_LONG reject, skipped without being held in memory. At least 1024.',
  },
  {
    name: 'ETL_MAX_REJECT_LINE_BYTES',
    default: '4096',
    description:
      'Bytes of a rejected line kept in etl_rejects.original_line (the full length is counted beside it); 0 keeps none. At most ETL_MAX_LINE_BYTES. Shown only to an admin who asks.',
  },
  {
    name: 'ETL_SNAPSHOT_RETENTION',
    default: '30',
    description:
      'Published runs per school whose change history (etl_changes) is kept, so they can be rolled back; older history is pruned after each run.',
  },
];

function text(v: string | undefined): string | null {
  const t = v?.trim();
  return t ? t : null;
}

function nonNegativeInt(name: string, raw: string | undefined, fallback: number): Parsed<number> {
  const t = text(raw);
  if (t === null) return { ok: true, value: fallback };
  if (!/^\d+$/.test(t))
    return { ok: false, problem: `${name}=${JSON.stringify(raw)} must be a whole number of 0 or more` };
  return { ok: true, value: Number(t) };
}

function fraction(name: string, raw: string | undefined, fallback: number): Parsed<number> {
  const t = text(raw);
  if (t === null) return { ok: true, value: fallback };
  const n = Number(t);
  if (!Number.isFinite(n) || n < 0 || n > 1)
    return { ok: false, problem: `${name}=${JSON.stringify(raw)} must be a number from 0 to 1 (e.g. 0.10)` };
  return { ok: true, value: n };
}

function tableList(name: string, raw: string | undefined, fallback: readonly string[]): Parsed<readonly string[]> {
  const t = text(raw);
  if (t === null) return { ok: true, value: fallback };
  const items = t
    .split(',')
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean);
  const bad = items.filter((s) => !/^[A-Z][A-Z0-9]*$/.test(s));
  if (bad.length > 0)
    return {
      ok: false,
      problem: `${name} has ${bad.map((b) => JSON.stringify(b)).join(', ')}, which ${bad.length === 1 ? 'is not a table name' : 'are not table names'} (e.g. ST,SF)`,
    };
  return { ok: true, value: items };
}

function positiveInt(name: string, raw: string | undefined, fallback: number): Parsed<number> {
  const p = nonNegativeInt(name, raw, fallback);
  if (p.ok && p.value < 1)
    return { ok: false, problem: `${name}=${JSON.stringify(raw)} must be a whole number of 1 or more` };
  return p;
}

function positiveNumber(name: string, raw: string | undefined, fallback: number): Parsed<number> {
  const t = text(raw);
  if (t === null) return { ok: true, value: fallback };
  const n = Number(t);
  if (!Number.isFinite(n) || n < 1)
    return { ok: false, problem: `${name}=${JSON.stringify(raw)} must be a number of 1 or more` };
  return { ok: true, value: n };
}

/** ETL_MAX_LINE_BYTES and ETL_MAX_REJECT_LINE_BYTES, checked together: the kept part of a line cannot exceed the line. */
function lineLimitsOf(env: Readonly<Record<string, string | undefined>>, problems: string[]): LineLimits {
  const line = positiveInt('ETL_MAX_LINE_BYTES', env.ETL_MAX_LINE_BYTES, DEFAULT_MAX_LINE_BYTES);
  const kept = nonNegativeInt(
    'ETL_MAX_REJECT_LINE_BYTES',
    env.ETL_MAX_REJECT_LINE_BYTES,
    DEFAULT_MAX_REJECT_LINE_BYTES,
  );
  let maxLineBytes = DEFAULT_MAX_LINE_BYTES;
  if (!line.ok) problems.push(line.problem);
  else if (line.value < MIN_LINE_BYTES)
    problems.push(`ETL_MAX_LINE_BYTES=${line.value} must be at least ${MIN_LINE_BYTES}`);
  else maxLineBytes = line.value;
  let maxRejectLineBytes = Math.min(DEFAULT_MAX_REJECT_LINE_BYTES, maxLineBytes);
  if (!kept.ok) problems.push(kept.problem);
  else if (kept.value > maxLineBytes)
    problems.push(`ETL_MAX_REJECT_LINE_BYTES=${kept.value} must be at most ETL_MAX_LINE_BYTES (${maxLineBytes})`);
  else maxRejectLineBytes = kept.value;
  return { maxLineBytes, maxRejectLineBytes };
}

function redisOf(url: string | undefined, host: string | undefined, port: string | undefined): Parsed<string | null> {
  const u = text(url);
  if (u !== null) {
    if (!/^rediss?:\/\//.test(u)) return { ok: false, problem: 'REDIS_URL must start with redis:// or rediss://' };
    return { ok: true, value: u };
  }
  const h = text(host);
  if (h === null) return { ok: true, value: null };
  const p = text(port) ?? '6379';
  if (!/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 65535)
    return { ok: false, problem: `REDIS_PORT=${JSON.stringify(port)} must be a port number` };
  return { ok: true, value: `redis://${h.includes(':') ? `[${h}]` : h}:${p}` };
}

function cronOf(raw: string | undefined): Parsed<string> {
  const t = text(raw) ?? '0 2 * * *';
  const fields = t.split(/\s+/);
  if (fields.length < 5 || fields.length > 6 || !fields.every((f) => /^[\d*,/\-A-Za-z?LW#]+$/.test(f))) {
    return { ok: false, problem: `ETL_SCHEDULE=${JSON.stringify(raw)} must be a cron pattern such as "0 2 * * *"` };
  }
  return { ok: true, value: t };
}

function timezoneOf(raw: string | undefined): Parsed<string> {
  const t = text(raw) ?? 'Australia/Melbourne';
  try {
    new Intl.DateTimeFormat('en-AU', { timeZone: t });
    return { ok: true, value: t };
  } catch {
    return { ok: false, problem: `ETL_TIMEZONE=${JSON.stringify(raw)} is not a time zone (e.g. Australia/Melbourne)` };
  }
}

function tokensOf(raw: string | undefined): Parsed<HttpConfig['adminTokens']> {
  const t = text(raw);
  if (t === null) return { ok: true, value: [] };
  const tokens = t
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry, i) => {
      const at = entry.indexOf(':');
      return at > 0
        ? { name: entry.slice(0, at), token: entry.slice(at + 1) }
        : { name: `token${i + 1}`, token: entry };
    });
  const short = tokens.filter((x) => x.token.length < 16);
  if (short.length > 0)
    return {
      ok: false,
      problem: `ETL_ADMIN_TOKENS has ${short.length} token${short.length > 1 ? 's' : ''} shorter than 16 characters (${short.map((x) => x.name).join(', ')})`,
    };
  return { ok: true, value: tokens };
}

function publicUrlOf(raw: string | undefined): Parsed<string | null> {
  const t = text(raw);
  if (t === null) return { ok: true, value: null };
  try {
    const url = new URL(t);
    if (url.protocol === 'http:' || url.protocol === 'https:') return { ok: true, value: url.href };
  } catch {
    // reported below, as a URL that is not http(s)
  }
  return {
    ok: false,
    problem: `ETL_PUBLIC_URL=${JSON.stringify(raw)} must be an http:// or https:// URL (e.g. https://etl.school.vic.edu.au/)`,
  };
}

/** Names a listen address does not stand for: it listens on every interface, and no Host header names it. */
const ANY_ADDRESS = new Set(['0.0.0.0', '::', '[::]']);

function allowedHostsOf(
  raw: string | undefined,
  listenHost: string,
  publicUrl: string | null,
): Parsed<readonly string[] | null> {
  const t = text(raw);
  if (t === '*') return { ok: true, value: null };
  if (t === null) {
    const names = [
      ...(ANY_ADDRESS.has(listenHost) ? [] : [listenHost]),
      'localhost',
      '127.0.0.1',
      '::1',
      ...(publicUrl ? [new URL(publicUrl).host] : []),
    ];
    return { ok: true, value: [...new Set(names.map((n) => hostNameOf(n)).filter((n): n is string => n !== null))] };
  }
  const entries = t
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  const bad = entries.filter((x) => hostNameOf(x) === null);
  if (bad.length > 0 || entries.length === 0) {
    return {
      ok: false,
      problem: `ETL_ALLOWED_HOSTS=${JSON.stringify(raw)} must be host names separated by commas (e.g. etl.school.lan,localhost), or *`,
    };
  }
  return { ok: true, value: [...new Set(entries.map((x) => hostNameOf(x) as string))] };
}

function databaseOf(rawUrl: string | undefined, rawSchema: string | undefined): Parsed<DatabaseConfig> {
  const url = text(rawUrl);
  const schema = text(rawSchema) ?? 'public';
  if (!/^[a-z_][a-z0-9_]*$/.test(schema))
    return {
      ok: false,
      problem: `DATABASE_SCHEMA=${JSON.stringify(rawSchema)} must be a lower-case SQL name (letters, digits, _)`,
    };
  if (url === null) return { ok: true, value: { kind: 'sqlite', path: resolve('./data/cases-etl.db') } };
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (!path) return { ok: false, problem: 'DATABASE_URL=sqlite: needs a file path, e.g. sqlite:./data/cases-etl.db' };
    return { ok: true, value: { kind: 'sqlite', path: path === ':memory:' ? path : resolve(path) } };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    try {
      new URL(url);
    } catch {
      return { ok: false, problem: 'DATABASE_URL is not a valid postgres:// URL' };
    }
    return { ok: true, value: { kind: 'postgres', url, schema } };
  }
  return {
    ok: false,
    problem: 'DATABASE_URL must start with sqlite: or postgres:// (e.g. postgres://postgres@127.0.0.1:5432/cases)',
  };
}

function schoolList(raw: string | undefined): Parsed<readonly string[]> {
  const items = (text(raw) ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  const bad = items.filter((x) => !/^[A-Za-z0-9]+$/.test(x));
  if (bad.length > 0 || items.length === 0)
    return {
      ok: false,
      problem: `ETL_SCHOOLS=${JSON.stringify(raw)} must be school numbers separated by commas (e.g. 8865,8866)`,
    };
  return { ok: true, value: items };
}

/** Values given on the command line, which win over the environment. */
export interface ConfigOverrides {
  sourceDirectory?: string | undefined;
  schoolId?: string | undefined;
}

/**
 * Builds the configuration from `env` (normally process.env) and command-line overrides.
 * Throws ETL_CONFIG_INVALID listing every problem.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>, overrides: ConfigOverrides = {}): Config {
  const problems: string[] = [];
  const take = <T>(p: Parsed<T>, fallback: T): T => {
    if (p.ok) return p.value;
    problems.push(p.problem);
    return fallback;
  };

  const schoolId = text(overrides.schoolId) ?? text(env.CASES_SCHOOL_ID);
  if (schoolId !== null && !/^[A-Za-z0-9]+$/.test(schoolId)) {
    problems.push(`CASES_SCHOOL_ID=${JSON.stringify(schoolId)} must be letters and digits only (e.g. 8865)`);
  }
  const relationships = text(env.CASES_RELATIONSHIPS_JSON);
  const source = text(overrides.sourceDirectory) ?? text(env.CASES_DIRECTORY);
  const listenHost = text(env.HOST) ?? '127.0.0.1';
  const publicUrl = take(publicUrlOf(env.ETL_PUBLIC_URL), null);

  const config: Config = {
    sourceDirectory: source === null ? null : resolve(source),
    relationshipsPath: resolve(relationships ?? './relationships.json'),
    relationshipsExplicit: relationships !== null,
    schoolId,
    requiredTables: take(tableList('ETL_REQUIRED_TABLES', env.ETL_REQUIRED_TABLES, ['ST', 'SF']), []),
    fileStableMs: take(nonNegativeInt('ETL_FILE_STABLE_MS', env.ETL_FILE_STABLE_MS, 2000), 0),
    fileStableTimeoutMs: take(nonNegativeInt('ETL_FILE_STABLE_TIMEOUT_MS', env.ETL_FILE_STABLE_TIMEOUT_MS, 60_000), 0),
    maxErrorRate: take(fraction('ETL_MAX_ERROR_RATE', env.ETL_MAX_ERROR_RATE, 0.1), 0.1),
    maxShrink: take(fraction('ETL_MAX_SHRINK', env.ETL_MAX_SHRINK, 0.5), 0.5),
    database: take(databaseOf(env.DATABASE_URL, env.DATABASE_SCHEMA), { kind: 'sqlite', path: ':memory:' }),
    archiveDirectory:
      text(env.CASES_ARCHIVE_DIRECTORY) === null ? null : resolve(text(env.CASES_ARCHIVE_DIRECTORY) as string),
    archiveDays: take(nonNegativeInt('ETL_ARCHIVE_DAYS', env.ETL_ARCHIVE_DAYS, 30), 30),
    retry: {
      attempts: take(positiveInt('ETL_RETRY_ATTEMPTS', env.ETL_RETRY_ATTEMPTS, 3), 3),
      delayMs: take(nonNegativeInt('ETL_RETRY_DELAY_MS', env.ETL_RETRY_DELAY_MS, 1000), 1000),
      factor: take(positiveNumber('ETL_RETRY_FACTOR', env.ETL_RETRY_FACTOR, 2), 2),
    },
    lockTimeoutMs: take(nonNegativeInt('ETL_LOCK_TIMEOUT_MS', env.ETL_LOCK_TIMEOUT_MS, 600_000), 0),
    maxStoredRejects: take(nonNegativeInt('ETL_MAX_STORED_REJECTS', env.ETL_MAX_STORED_REJECTS, 10_000), 0),
    snapshotRetention: take(positiveInt('ETL_SNAPSHOT_RETENTION', env.ETL_SNAPSHOT_RETENTION, 30), 30),
    lines: lineLimitsOf(env, problems),
    jobs: {
      redisUrl: take(redisOf(env.REDIS_URL, env.REDIS_HOST, env.REDIS_PORT), null),
      prefix: text(env.ETL_QUEUE_PREFIX) ?? 'bull',
      schedule: take(cronOf(env.ETL_SCHEDULE), '0 2 * * *'),
      timezone: take(timezoneOf(env.ETL_TIMEZONE), 'Australia/Melbourne'),
      schools: text(env.ETL_SCHOOLS) === null ? null : take(schoolList(env.ETL_SCHOOLS), []),
      concurrency: take(positiveInt('ETL_WORKER_CONCURRENCY', env.ETL_WORKER_CONCURRENCY, 1), 1),
      attempts: take(positiveInt('ETL_JOB_ATTEMPTS', env.ETL_JOB_ATTEMPTS, 3), 3),
      backoffMs: take(nonNegativeInt('ETL_JOB_BACKOFF_MS', env.ETL_JOB_BACKOFF_MS, 30_000), 30_000),
      lockMs: take(positiveInt('ETL_JOB_LOCK_MS', env.ETL_JOB_LOCK_MS, 30_000), 30_000),
      shutdownTimeoutMs: take(nonNegativeInt('ETL_SHUTDOWN_TIMEOUT_MS', env.ETL_SHUTDOWN_TIMEOUT_MS, 60_000), 60_000),
    },
    http: {
      port: take(nonNegativeInt('PORT', env.PORT, 3000), 3000),
      host: listenHost,
      adminTokens: take(tokensOf(env.ETL_ADMIN_TOKENS), []),
      publicUrl,
      allowedHosts: take(allowedHostsOf(env.ETL_ALLOWED_HOSTS, listenHost, publicUrl), []),
    },
    notifications: notificationConfig(env, hostname(), problems),
  };

  if (problems.length > 0) {
    throw new EtlError(
      'ETL_CONFIG_INVALID',
      `configuration has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n  ${problems.join('\n  ')}`,
      { problems },
    );
  }
  return Object.freeze(config);
}

/** The configuration from this process's environment: the library's zero-argument calls use it. */
export function loadEnvironmentConfig(overrides: ConfigOverrides = {}): Config {
  return loadConfig(process.env, overrides);
}
