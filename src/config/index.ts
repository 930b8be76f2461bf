import { hostname } from 'node:os';

import { EtlError } from '../errors/index.js';
import { defaultFrom, SMTP_NEEDED, type NotificationConfig } from './notifications.js';
import { ENVIRONMENT, VARIABLE_NAMES, type EnvironmentValues, type VariableName } from './schema.js';
import type { AuthConfig, Config, ConfigOverrides, LineLimits, OidcConfig } from './types.js';
import { databaseOf, defaultAllowedHosts, isLoopbackHost } from './values.js';
import type { Definition } from './variable.js';

export {
  commandEnvironmentHelp,
  environmentHelp,
  README_MARKERS,
  renderConfigurationDoc,
  renderReadmeTable,
  replaceBetweenMarkers,
} from './docs.js';
export { NOTIFY_ON, type NotificationConfig, type NotifyOn } from './notifications.js';
export {
  DEFAULT_MAX_LINE_BYTES,
  DEFAULT_MAX_REJECT_LINE_BYTES,
  VARIABLES,
  type Variable,
  type VariableName,
} from './schema.js';
export { isLoopbackHost, LOG_LEVELS, type AuthMode, type LogLevel, type ViewNaming } from './values.js';
export { COMMANDS, GROUPS, type CommandName, type Group } from './variable.js';
export type {
  AuthConfig,
  Config,
  ConfigOverrides,
  DatabaseConfig,
  HttpConfig,
  JobsConfig,
  LineLimits,
  NamedToken,
  OidcConfig,
  RetryConfig,
} from './types.js';

type Env = Readonly<Record<string, string | undefined>>;

/** A problem with the configuration, and the variable it belongs to (problems are listed in table order). */
interface Problem {
  readonly variable: VariableName;
  readonly text: string;
}

/** Reads one variable's raw text: its value, or the problem with it (the variable's name first). */
function readVariable<K extends VariableName>(
  name: K,
  raw: string | undefined,
): { ok: true; value: EnvironmentValues[K] } | { ok: false; problem: string } {
  const def: Definition<unknown> = ENVIRONMENT[name];
  const problem = def.problem;
  // The kind's own problem text replaces zod's message for checks that do not carry one.
  const result = def.schema.safeParse(raw, problem && { error: () => problem(raw?.trim() ?? '') });
  if (result.success) return { ok: true, value: result.data as EnvironmentValues[K] };
  // One problem per variable: the first check that failed says what is wrong.
  return { ok: false, problem: `${name}${result.error.issues[0]?.message ?? ' is invalid'}` };
}

/**
 * Reads every variable from `env`, each on its own, so that every problem is found in one pass.
 * A variable that fails reads as its default, letting the rules between variables still run.
 */
function readEnvironment(env: Readonly<Record<string, string | undefined>>): {
  values: EnvironmentValues;
  problems: Problem[];
} {
  const values: Record<string, unknown> = {};
  const problems: Problem[] = [];
  for (const name of VARIABLE_NAMES) {
    const read = readVariable(name, env[name]);
    if (read.ok) values[name] = read.value;
    else {
      problems.push({ variable: name, text: read.problem });
      values[name] = ENVIRONMENT[name].schema.parse(undefined);
    }
  }
  return { values: values as EnvironmentValues, problems };
}

const isSet = (raw: string | undefined): boolean => raw !== undefined && raw.trim() !== '';

/** Freezes `value` and everything reachable from it, so no module can change the configuration. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/**
 * Builds the configuration from `env` (normally process.env) and command-line overrides: every
 * variable is read by its entry in ENVIRONMENT, then the rules between variables are applied.
 * Throws ETL_CONFIG_INVALID listing every problem, in the order of the table. The result is
 * deep-frozen.
 */
export function loadConfig(env: Env, overrides: ConfigOverrides = {}): Config {
  // The command line wins, and its values are checked as the variables they stand for.
  const given: Env = {
    ...env,
    CASES_DIRECTORY: isSet(overrides.sourceDirectory) ? overrides.sourceDirectory : env.CASES_DIRECTORY,
    CASES_SCHOOL_ID: isSet(overrides.schoolId) ? overrides.schoolId : env.CASES_SCHOOL_ID,
  };
  const { values: v, problems } = readEnvironment(given);
  const report = (variable: VariableName, text: string): void => void problems.push({ variable, text });

  // Rules between variables are checked only on values that were read: a failed one is already reported.
  const failed = (variable: VariableName): boolean => problems.some((p) => p.variable === variable);

  const rejectSet = isSet(given.ETL_MAX_REJECT_LINE_BYTES) && !failed('ETL_MAX_REJECT_LINE_BYTES');
  const lines = lineLimitsOf(v.ETL_MAX_LINE_BYTES, v.ETL_MAX_REJECT_LINE_BYTES, rejectSet);
  if (typeof lines === 'string') report('ETL_MAX_REJECT_LINE_BYTES', lines);

  // Six fields count seconds: a pattern that fires every second by mistake must be asked for.
  if (!failed('ETL_SCHEDULE') && !failed('ETL_SCHEDULE_SECONDS') && !v.ETL_SCHEDULE_SECONDS) {
    const fields = v.ETL_SCHEDULE.startsWith('@') ? [] : v.ETL_SCHEDULE.split(/\s+/);
    if (fields.length === 6)
      report(
        'ETL_SCHEDULE',
        `ETL_SCHEDULE=${JSON.stringify(v.ETL_SCHEDULE)} has 6 fields: the first would be seconds; give 5 (minute hour day-of-month month day-of-week), or set ETL_SCHEDULE_SECONDS=true to mean seconds`,
      );
  }

  // REDIS_URL wins; REDIS_HOST and REDIS_PORT are the seed's way of saying the same.
  const host = v.REDIS_HOST;
  const redisUrl = v.REDIS_URL ?? (host ? `redis://${host.includes(':') ? `[${host}]` : host}:${v.REDIS_PORT}` : null);
  const publicUrl = v.ETL_PUBLIC_URL ?? null;

  const auth = authOf(v, report);

  const emailFrom = v.ETL_NOTIFICATION_FROM ?? defaultFrom(hostname());
  // The default is built from this machine's name, which need not make an address: check it too.
  const from = failed('ETL_NOTIFICATION_FROM') ? null : readVariable('ETL_NOTIFICATION_FROM', emailFrom);
  if (from?.ok === false) report('ETL_NOTIFICATION_FROM', from.problem);
  if (isSet(given.ETL_NOTIFICATION_EMAIL) && !isSet(given.SMTP_URL)) report('SMTP_URL', SMTP_NEEDED);

  const notifications: NotificationConfig = {
    slackWebhookUrl: v.SLACK_WEBHOOK_URL ?? null,
    teamsWebhookUrl: v.TEAMS_WEBHOOK_URL ?? null,
    emailTo: v.ETL_NOTIFICATION_EMAIL ?? [],
    smtpUrl: v.SMTP_URL ?? null,
    emailFrom,
    on: v.ETL_NOTIFY_ON,
    timeoutMs: v.ETL_NOTIFY_TIMEOUT_MS,
  };
  const config: Config = {
    sourceDirectory: v.CASES_DIRECTORY ?? null,
    relationshipsPath: v.CASES_RELATIONSHIPS_JSON,
    relationshipsExplicit: isSet(given.CASES_RELATIONSHIPS_JSON),
    schoolId: v.CASES_SCHOOL_ID ?? null,
    requiredTables: v.ETL_REQUIRED_TABLES,
    fileStableMs: v.ETL_FILE_STABLE_MS,
    fileStableTimeoutMs: v.ETL_FILE_STABLE_TIMEOUT_MS,
    maxErrorRate: v.ETL_MAX_ERROR_RATE,
    maxShrink: v.ETL_MAX_SHRINK,
    database: databaseOf(v.DATABASE_URL, v.DATABASE_SCHEMA, v.ETL_DB_CONNECT_TIMEOUT_MS),
    archiveDirectory: v.CASES_ARCHIVE_DIRECTORY ?? null,
    archiveDays: v.ETL_ARCHIVE_DAYS,
    retry: { attempts: v.ETL_RETRY_ATTEMPTS, delayMs: v.ETL_RETRY_DELAY_MS, factor: v.ETL_RETRY_FACTOR },
    lockTimeoutMs: v.ETL_LOCK_TIMEOUT_MS,
    maxStoredRejects: v.ETL_MAX_STORED_REJECTS,
    snapshotRetention: v.ETL_SNAPSHOT_RETENTION,
    historyDays: v.ETL_HISTORY_DAYS,
    viewNaming: v.ETL_VIEW_NAMING,
    lines: typeof lines === 'string' ? { maxLineBytes: v.ETL_MAX_LINE_BYTES, maxRejectLineBytes: 0 } : lines,
    jobs: {
      redisUrl,
      prefix: v.ETL_QUEUE_PREFIX,
      schedule: v.ETL_SCHEDULE,
      timezone: v.ETL_TIMEZONE,
      schools: v.ETL_SCHOOLS ?? null,
      concurrency: v.ETL_WORKER_CONCURRENCY,
      attempts: v.ETL_JOB_ATTEMPTS,
      backoffMs: v.ETL_JOB_BACKOFF_MS,
      lockMs: v.ETL_JOB_LOCK_MS,
      shutdownTimeoutMs: v.ETL_SHUTDOWN_TIMEOUT_MS,
      redisConnectTimeoutMs: v.ETL_REDIS_CONNECT_TIMEOUT_MS,
    },
    http: {
      port: v.PORT,
      host: v.HOST,
      adminTokens: v.ETL_ADMIN_TOKENS ?? [],
      auth,
      publicUrl,
      allowedHosts: v.ETL_ALLOWED_HOSTS === undefined ? defaultAllowedHosts(v.HOST, publicUrl) : v.ETL_ALLOWED_HOSTS,
    },
    notifications,
    logLevel: v.LOG_LEVEL,
  };

  if (problems.length > 0) throw configInvalid(problems);
  return deepFreeze(config);
}

/**
 * ETL_AUTH and what it needs. Unset, it follows what is configured: an issuer means oidc, tokens
 * mean token, else none (which `serve` accepts only on loopback: assertServeConfig).
 */
function authOf(v: EnvironmentValues, report: (variable: VariableName, text: string) => void): AuthConfig {
  const admins = v.ETL_ADMIN_TOKENS ?? [];
  const viewers = v.ETL_VIEWER_TOKENS ?? [];
  const mode =
    v.ETL_AUTH ?? (v.ETL_OIDC_ISSUER !== undefined ? 'oidc' : admins.length + viewers.length > 0 ? 'token' : 'none');
  if (mode === 'token' && admins.length + viewers.length === 0)
    report('ETL_AUTH', 'ETL_AUTH=token needs ETL_ADMIN_TOKENS or ETL_VIEWER_TOKENS');
  let oidc: OidcConfig | null = null;
  if (mode === 'oidc') {
    const issuer = v.ETL_OIDC_ISSUER;
    const clientId = v.ETL_OIDC_CLIENT_ID;
    if (issuer === undefined) report('ETL_OIDC_ISSUER', 'ETL_AUTH=oidc needs ETL_OIDC_ISSUER');
    else if (issuer.startsWith('http:') && !isLoopbackHost(new URL(issuer).hostname))
      report('ETL_OIDC_ISSUER', 'ETL_OIDC_ISSUER must be https:// (http:// only on this machine, for tests)');
    if (clientId === undefined) report('ETL_OIDC_CLIENT_ID', 'ETL_AUTH=oidc needs ETL_OIDC_CLIENT_ID');
    if (issuer !== undefined && clientId !== undefined)
      oidc = {
        issuer,
        clientId,
        clientSecret: v.ETL_OIDC_CLIENT_SECRET ?? null,
        audience: v.ETL_OIDC_AUDIENCE ?? clientId,
        adminGroups: v.ETL_OIDC_ADMIN_GROUPS ?? [],
        adminRoles: v.ETL_OIDC_ADMIN_ROLES ?? [],
      };
  }
  return {
    mode,
    modeSet: v.ETL_AUTH !== undefined,
    viewerTokens: viewers,
    oidc,
    sessionSecret: v.ETL_SESSION_SECRET ?? null,
  };
}

/**
 * ETL_MAX_LINE_BYTES and ETL_MAX_REJECT_LINE_BYTES together: the kept part of a line cannot
 * exceed the line. Unset, the kept part is its default or the whole line, whichever is less.
 */
function lineLimitsOf(maxLineBytes: number, maxRejectLineBytes: number, rejectSet: boolean): LineLimits | string {
  if (!rejectSet) return { maxLineBytes, maxRejectLineBytes: Math.min(maxRejectLineBytes, maxLineBytes) };
  if (maxRejectLineBytes <= maxLineBytes) return { maxLineBytes, maxRejectLineBytes };
  return `ETL_MAX_REJECT_LINE_BYTES=${maxRejectLineBytes} must be at most ETL_MAX_LINE_BYTES (${maxLineBytes})`;
}

/** ETL_CONFIG_INVALID with every problem, in the order the variables are documented. */
function configInvalid(problems: readonly Problem[]): EtlError {
  const order = (p: Problem): number => VARIABLE_NAMES.indexOf(p.variable);
  const texts = [...problems].sort((a, b) => order(a) - order(b)).map((p) => p.text);
  return new EtlError(
    'ETL_CONFIG_INVALID',
    `configuration has ${texts.length} problem${texts.length === 1 ? '' : 's'}:\n  ${texts.join('\n  ')}`,
    { problems: texts },
  );
}

/** The configuration from this process's environment: the library's zero-argument calls use it. */
export function loadEnvironmentConfig(overrides: ConfigOverrides = {}): Config {
  return loadConfig(process.env, overrides);
}
