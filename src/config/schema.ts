import { emailList, fromAddress, notifyOn, smtpUrl, webhookUrl } from './notifications.js';
import {
  adminTokens,
  atLeastOne,
  authMode,
  cronPattern,
  databaseUrl,
  fraction,
  hostList,
  httpUrl,
  lineBytes,
  logLevel,
  nameList,
  onOff,
  path,
  port,
  redisUrl,
  schoolId,
  schoolList,
  secret,
  sqlName,
  tableList,
  text,
  timeZone,
  viewNaming,
  wholeNumber,
} from './values.js';
import { variable, type CommandName, type Definition, type Group } from './variable.js';

/**
 * Every environment variable cases-etl reads: its kind of value, its default and what it means.
 * This table is the one place a default lives: loadConfig parses with it, and the README's
 * table, docs/configuration.md (`npm run docs:config`) and `--help` are written from it.
 */

/** ETL_MAX_LINE_BYTES's default: 1 MiB, far beyond any real eduHub row (a few KiB at most). */
export const DEFAULT_MAX_LINE_BYTES = 1 << 20;
/** ETL_MAX_REJECT_LINE_BYTES's default: 4 KiB, a whole ordinary row. */
export const DEFAULT_MAX_REJECT_LINE_BYTES = 4096;

const SOURCE = 'Source and layouts';
const GUARDS = 'Guard rails';
const STORAGE = 'Database and archive';
const LIMITS = 'Retries and limits';
const JOBS = 'Jobs and schedule';
const HTTP = 'HTTP (serve)';
const NOTIFY = 'Notifications';
const LOGS = 'Logs';

/** Commands that load a night: `run`, and those that run one as a job (`trigger` without Redis runs it itself). */
const LOADS = ['run', 'serve', 'worker', 'trigger'] as const satisfies readonly CommandName[];
/** Commands that read the export folder. */
const READS_EXPORT = [...LOADS, 'validate'] as const;
/** Commands that open the database. */
const OPENS_DATABASE = [...LOADS, 'runs', 'rollback', 'history', 'migrate'] as const;
/** Commands that may send notifications: a loaded night, a rollback, a test message. */
const NOTIFIES = [...LOADS, 'rollback', 'notify test'] as const;
/** Commands that use the job queue on Redis. */
const QUEUES = ['serve', 'worker', 'trigger', 'schedule show'] as const;

/** The variables, in the order they are documented and their problems reported. */
export const ENVIRONMENT = {
  CASES_DIRECTORY: variable({
    group: SOURCE,
    commands: [...READS_EXPORT, 'schedule show'],
    common: true,
    kind: path,
    unset: '(none; or `--source`)',
    description: 'Folder the nightly CASES21 export is written to.',
  }),
  CASES_RELATIONSHIPS_JSON: variable({
    group: SOURCE,
    commands: [...READS_EXPORT, 'migrate', 'layouts list', 'layouts show', 'layouts infer', 'layouts check'],
    common: true,
    kind: path,
    default: './relationships.json',
    description:
      'relationships.json with `primary_keys`, `relationships` and optional `file_layouts`. The default path may be absent (built-in layouts only); a path you set must exist.',
  }),
  CASES_SCHOOL_ID: variable({
    group: SOURCE,
    commands: READS_EXPORT,
    kind: schoolId,
    unset: '(none)',
    description:
      "School number for fixed-width `.DAT` files, whose names carry none. Falls back to the site in the layout's `table_name`.",
  }),
  ETL_REQUIRED_TABLES: variable({
    group: SOURCE,
    commands: READS_EXPORT,
    kind: tableList,
    default: 'ST,SF',
    description: 'Tables an eduHub export must contain; layouts marked `"required": true` are added.',
  }),
  ETL_FILE_STABLE_MS: variable({
    group: SOURCE,
    commands: READS_EXPORT,
    kind: wholeNumber(0),
    default: '2000',
    description: 'A file modified this recently (ms) is re-checked until its size and mtime stop changing.',
  }),
  ETL_FILE_STABLE_TIMEOUT_MS: variable({
    group: SOURCE,
    commands: READS_EXPORT,
    kind: wholeNumber(0),
    default: '60000',
    description: 'How long (ms) to wait for a changing file before skipping it for this run.',
  }),
  ETL_MAX_ERROR_RATE: variable({
    group: GUARDS,
    commands: LOADS,
    common: true,
    kind: fraction,
    default: '0.10',
    description: 'Share of rejected rows (0–1) above which a run is failed, for the run and for each table.',
  }),
  ETL_MAX_SHRINK: variable({
    group: GUARDS,
    commands: LOADS,
    kind: fraction,
    default: '0.5',
    description:
      "Largest share (0–1) a full file's row count may shrink by against the same table's last published load.",
  }),
  DATABASE_URL: variable({
    group: STORAGE,
    commands: OPENS_DATABASE,
    common: true,
    kind: databaseUrl,
    default: 'sqlite:./data/cases-etl.db',
    description: '`sqlite:PATH` for the embedded database, or `postgres://user@host:5432/db` for PostgreSQL.',
  }),
  DATABASE_SCHEMA: variable({
    group: STORAGE,
    commands: OPENS_DATABASE,
    kind: sqlName,
    default: 'public',
    description: 'PostgreSQL schema for the mirror tables, views and ledger (created if missing).',
  }),
  ETL_DB_CONNECT_TIMEOUT_MS: variable({
    group: STORAGE,
    commands: OPENS_DATABASE,
    kind: wholeNumber(1),
    default: '10000',
    description:
      'How long (ms) to wait for PostgreSQL to accept a connection before failing with ETL_DB_UNAVAILABLE (a host that never answers would otherwise hang every command).',
  }),
  CASES_ARCHIVE_DIRECTORY: variable({
    group: STORAGE,
    commands: LOADS,
    common: true,
    kind: path,
    unset: '(none: no archive)',
    description:
      'Published files are copied to `<dir>/<school>/<timestamp>/` with a `manifest.json`. A file whose name no longer holds the bytes that were loaded (rewritten, removed, or swapped for a symlink) is not copied; its manifest entry says `archived: false` and why, and the run lists it.',
  }),
  ETL_ARCHIVE_DAYS: variable({
    group: STORAGE,
    commands: LOADS,
    kind: wholeNumber(0),
    default: '30',
    description: 'Archives older than this many days are pruned after each published run.',
  }),
  ETL_RETRY_ATTEMPTS: variable({
    group: LIMITS,
    commands: NOTIFIES,
    kind: wholeNumber(1),
    default: '3',
    description:
      'Attempts for directory access and file reads (and, in jobs, infrastructure failures), including the first.',
  }),
  ETL_RETRY_DELAY_MS: variable({
    group: LIMITS,
    commands: NOTIFIES,
    kind: wholeNumber(0),
    default: '1000',
    description: 'Delay (ms) before the first retry; each later one is `ETL_RETRY_FACTOR` times longer.',
  }),
  ETL_RETRY_FACTOR: variable({
    group: LIMITS,
    commands: NOTIFIES,
    kind: atLeastOne,
    default: '2',
    description: 'Growth of the retry delay (exponential backoff).',
  }),
  ETL_LOCK_TIMEOUT_MS: variable({
    group: LIMITS,
    commands: [...LOADS, 'rollback'],
    kind: wholeNumber(0),
    default: '600000',
    description: 'Longest wait (ms) for another run of the same school to finish before giving up.',
  }),
  ETL_MAX_STORED_REJECTS: variable({
    group: LIMITS,
    commands: LOADS,
    kind: wholeNumber(0),
    default: '10000',
    description: 'Rejects stored per file in `etl_rejects`; beyond this they are counted only.',
  }),
  ETL_MAX_LINE_BYTES: variable({
    group: LIMITS,
    commands: READS_EXPORT,
    kind: lineBytes,
    default: String(DEFAULT_MAX_LINE_BYTES),
    description:
      'Longest line read (bytes); a longer line is one `ETL_PARSE_LINE_TOO_LONG` reject, skipped without being held in memory. At least 1024.',
  }),
  ETL_MAX_REJECT_LINE_BYTES: variable({
    group: LIMITS,
    commands: READS_EXPORT,
    kind: wholeNumber(0),
    default: String(DEFAULT_MAX_REJECT_LINE_BYTES),
    description:
      'Bytes of a rejected line kept in `etl_rejects.original_line` (the full length is counted beside it); 0 keeps none. At most `ETL_MAX_LINE_BYTES` (unset, the smaller of the two). Shown only to an admin who asks.',
  }),
  ETL_SNAPSHOT_RETENTION: variable({
    group: LIMITS,
    commands: [...LOADS, 'rollback'],
    kind: wholeNumber(1),
    default: '30',
    description:
      "Published runs per school whose change history (`etl_changes`) is kept, so they can be rolled back; after each run, older runs' changes move to the compact history (`ETL_HISTORY_DAYS`).",
  }),
  ETL_HISTORY_DAYS: variable({
    group: LIMITS,
    commands: LOADS,
    kind: wholeNumber(0),
    default: '400',
    description:
      'Days the compact history of changes (changed columns and their values, `cases_history`, `cases-etl history`) is kept once a run has left `ETL_SNAPSHOT_RETENTION`; older history is pruned after each run, and so are the rejects of those runs (keys, codes and the lines kept for an admin; the runs keep their counts). 400 keeps a school year and its reports; 0 keeps none beyond the rollback window.',
  }),
  ETL_VIEW_NAMING: variable({
    group: STORAGE,
    commands: LOADS,
    kind: viewNaming,
    default: 'snake',
    description:
      'Column names of the built-in views: `snake` (`student_id`, `given_names`: usable unquoted in SQL) or `camel` (`studentId`, as the seed named them; quoted on PostgreSQL). A `field_mapping` in relationships.json is used exactly as written either way.',
  }),
  REDIS_URL: variable({
    group: JOBS,
    commands: QUEUES,
    common: true,
    kind: redisUrl,
    unset: '(none)',
    description:
      'Redis for the job queue, e.g. `redis://127.0.0.1:6379`. Without Redis (and without `REDIS_HOST`), `serve` schedules in-process and `trigger` runs the ETL directly.',
  }),
  REDIS_HOST: variable({
    group: JOBS,
    commands: QUEUES,
    common: true,
    kind: text,
    unset: '(none)',
    description: "The seed's alternative to `REDIS_URL`, with `REDIS_PORT`.",
  }),
  REDIS_PORT: variable({
    group: JOBS,
    commands: QUEUES,
    common: true,
    kind: port,
    default: '6379',
    description: 'Port for `REDIS_HOST`.',
  }),
  ETL_QUEUE_PREFIX: variable({
    group: JOBS,
    commands: QUEUES,
    kind: text,
    default: 'bull',
    description: 'BullMQ key prefix, to share one Redis between deployments.',
  }),
  ETL_SCHEDULE: variable({
    group: JOBS,
    commands: ['serve', 'schedule show'],
    common: true,
    kind: cronPattern,
    default: '0 2 * * *',
    description:
      'Cron pattern of the nightly run: 5 fields (minute hour day-of-month month day-of-week), or a macro such as `@daily`.',
  }),
  ETL_SCHEDULE_SECONDS: variable({
    group: JOBS,
    commands: ['serve', 'schedule show'],
    kind: onOff,
    default: 'false',
    description:
      'Allow a six-field ETL_SCHEDULE whose first field is seconds (`*/10 * * * * *`), for tests and demonstrations; a nightly schedule never needs it, so six fields are refused unless this is true.',
  }),
  ETL_TIMEZONE: variable({
    group: JOBS,
    commands: ['serve', 'worker', 'schedule show'],
    common: true,
    kind: timeZone,
    default: 'Australia/Melbourne',
    description: 'Time zone the schedule is read in (IANA name).',
  }),
  ETL_SCHOOLS: variable({
    group: JOBS,
    commands: ['serve', 'worker', 'trigger', 'schedule show'],
    kind: schoolList,
    unset: '(every school in the folder)',
    description: 'Comma-separated school numbers a scheduled run covers.',
  }),
  ETL_WORKER_CONCURRENCY: variable({
    group: JOBS,
    commands: ['serve', 'worker'],
    kind: wholeNumber(1),
    default: '1',
    description: 'Schools one worker process runs at once.',
  }),
  ETL_JOB_ATTEMPTS: variable({
    group: JOBS,
    commands: ['serve', 'trigger'],
    kind: wholeNumber(1),
    default: '3',
    description: 'Attempts per job for infrastructure failures; bad data and tripped guard rails fail once.',
  }),
  ETL_JOB_BACKOFF_MS: variable({
    group: JOBS,
    commands: ['serve', 'trigger'],
    kind: wholeNumber(0),
    default: '30000',
    description: "Delay (ms) before a job's first retry; it doubles each time.",
  }),
  ETL_JOB_LOCK_MS: variable({
    group: JOBS,
    commands: ['serve', 'worker'],
    kind: wholeNumber(1),
    default: '30000',
    description: 'Job lock lifetime (ms); a job whose worker died is retried after it.',
  }),
  ETL_SHUTDOWN_TIMEOUT_MS: variable({
    group: JOBS,
    commands: ['serve', 'worker'],
    kind: wholeNumber(0),
    default: '60000',
    description:
      'On SIGTERM, how long (ms) to wait for the current run before exiting (an unfinished run publishes nothing).',
  }),
  ETL_REDIS_CONNECT_TIMEOUT_MS: variable({
    group: JOBS,
    commands: ['trigger', 'schedule show'],
    kind: wholeNumber(1),
    default: '10000',
    description:
      'How long (ms) `trigger` and `schedule show` wait for Redis before giving up with ETL_REDIS_UNAVAILABLE; `serve` and `worker` keep reconnecting instead.',
  }),
  PORT: variable({
    group: HTTP,
    commands: ['serve', 'worker'],
    common: true,
    kind: wholeNumber(0),
    default: '3000',
    description: 'HTTP port of `serve`, and of `worker` for its health checks and metrics.',
  }),
  HOST: variable({
    group: HTTP,
    commands: ['serve', 'worker'],
    kind: text,
    default: '127.0.0.1',
    description: 'HTTP listen address of `serve`, and of `worker` for its health checks and metrics.',
  }),
  ETL_ADMIN_TOKENS: variable({
    group: HTTP,
    commands: ['serve'],
    common: true,
    kind: adminTokens,
    unset: '(none)',
    description:
      'Comma-separated bearer tokens (`name:token` or `token`, 16 characters or more) with the admin role: they trigger runs, roll back and read everything over HTTP.',
  }),
  ETL_VIEWER_TOKENS: variable({
    group: HTTP,
    commands: ['serve'],
    kind: adminTokens,
    unset: '(none)',
    description:
      'Comma-separated bearer tokens (`name:token` or `token`, 16 characters or more) with the viewer role: the dashboard, runs, health and metrics, nothing that changes data.',
  }),
  ETL_AUTH: variable({
    group: HTTP,
    commands: ['serve'],
    kind: authMode,
    unset:
      '`oidc` when `ETL_OIDC_ISSUER` is set, else `token` when `ETL_ADMIN_TOKENS` or `ETL_VIEWER_TOKENS` is, else `none`',
    description:
      "Who may use serve's HTTP: `none` (reads open, admin routes need an admin token), `token` (every route but `/livez`, `/readyz` and `/metrics` needs a token) or `oidc` (users sign in through `ETL_OIDC_ISSUER`; tokens still work). With `none`, `serve` refuses a `HOST` beyond loopback unless `ETL_AUTH=none` is set on purpose. See docs/auth.md.",
  }),
  ETL_OIDC_ISSUER: variable({
    group: HTTP,
    commands: ['serve'],
    kind: httpUrl,
    unset: '(none)',
    description:
      'OpenID Connect issuer (https; http only on loopback), e.g. `https://login.microsoftonline.com/<tenant id>/v2.0` for Entra ID. Its discovery document and keys are read at first use.',
  }),
  ETL_OIDC_CLIENT_ID: variable({
    group: HTTP,
    commands: ['serve'],
    kind: text,
    unset: '(none; required for `oidc`)',
    description:
      'The application (client) id registered at the issuer; its redirect URI is `<ETL_PUBLIC_URL>/auth/callback`.',
  }),
  ETL_OIDC_CLIENT_SECRET: variable({
    group: HTTP,
    commands: ['serve'],
    kind: text,
    unset: '(none: a public client, PKCE only)',
    description: 'The client secret, for an issuer that requires one of a web application (Entra ID does).',
  }),
  ETL_OIDC_AUDIENCE: variable({
    group: HTTP,
    commands: ['serve'],
    kind: text,
    unset: '`ETL_OIDC_CLIENT_ID`',
    description: 'The `aud` bearer JWTs on the API must carry (Entra ID: the client id, or `api://<client id>`).',
  }),
  ETL_OIDC_ADMIN_GROUPS: variable({
    group: HTTP,
    commands: ['serve'],
    kind: nameList,
    unset: '(none)',
    description:
      'Comma-separated group ids (the `groups` claim; Entra ID: object ids) whose members are admins; other signed-in users are viewers.',
  }),
  ETL_OIDC_ADMIN_ROLES: variable({
    group: HTTP,
    commands: ['serve'],
    kind: nameList,
    unset: '(none)',
    description: 'Comma-separated role names (the `roles` claim; Entra ID: app roles) whose holders are admins.',
  }),
  ETL_SESSION_SECRET: variable({
    group: HTTP,
    commands: ['serve'],
    kind: secret,
    unset: '(a random key per process: sessions end when serve restarts)',
    description:
      'Key (32 characters or more) that seals the sign-in cookie; set it to keep sessions across restarts or share them between several `serve` processes.',
  }),
  ETL_PUBLIC_URL: variable({
    group: HTTP,
    commands: [...LOADS, 'rollback'],
    kind: httpUrl,
    unset: '(none)',
    description:
      'The http(s) address people reach `serve` at, such as a proxy\'s; its host is allowed in `Host` headers, and Slack, Teams and email messages link to the run on its dashboard ("View run").',
  }),
  ETL_ALLOWED_HOSTS: variable({
    group: HTTP,
    commands: ['serve', 'worker'],
    kind: hostList,
    unset: "`HOST`, `localhost`, `127.0.0.1`, `::1` and `ETL_PUBLIC_URL`'s host",
    description:
      'Comma-separated host names (a port is ignored) HTTP requests may name in their `Host` header; others get 421 (`ETL_HTTP_HOST_REFUSED`), which stops DNS rebinding. `*` allows any. A `HOST` of `0.0.0.0` or `::` is not a name and is left out.',
  }),
  SLACK_WEBHOOK_URL: variable({
    group: NOTIFY,
    commands: NOTIFIES,
    common: true,
    kind: webhookUrl,
    unset: '(none: no Slack)',
    description: 'Slack incoming webhook URL; run outcomes are posted as Block Kit messages.',
  }),
  TEAMS_WEBHOOK_URL: variable({
    group: NOTIFY,
    commands: NOTIFIES,
    common: true,
    kind: webhookUrl,
    unset: '(none: no Teams)',
    description: 'Microsoft Teams Workflows webhook URL; run outcomes are posted as Adaptive Cards.',
  }),
  ETL_NOTIFICATION_EMAIL: variable({
    group: NOTIFY,
    commands: NOTIFIES,
    common: true,
    kind: emailList,
    unset: '(none: no email)',
    description: 'Comma-separated email addresses told of run outcomes; needs `SMTP_URL`.',
  }),
  SMTP_URL: variable({
    group: NOTIFY,
    commands: NOTIFIES,
    common: true,
    kind: smtpUrl,
    unset: '(none)',
    description: 'Mail server for notification email: `smtp://host:25`, or `smtps://user:password@host:465`.',
  }),
  ETL_NOTIFICATION_FROM: variable({
    group: NOTIFY,
    commands: NOTIFIES,
    kind: fromAddress,
    unset: '`cases-etl@<host name>`',
    description: 'From address of notification email.',
  }),
  ETL_NOTIFY_ON: variable({
    group: NOTIFY,
    commands: NOTIFIES,
    kind: notifyOn,
    default: 'succeeded,warning,failed,rolled_back',
    description:
      'Outcomes that are notified (comma-separated), or `none`. A run that could not run at all counts as failed.',
  }),
  ETL_NOTIFY_TIMEOUT_MS: variable({
    group: NOTIFY,
    commands: NOTIFIES,
    kind: wholeNumber(1),
    default: '10000',
    description:
      'Longest wait (ms) for one delivery attempt; failed deliveries are retried as `ETL_RETRY_*` says, and never fail a run.',
  }),
  LOG_LEVEL: variable({
    group: LOGS,
    commands: ['serve', 'worker'],
    kind: logLevel,
    default: 'info',
    description:
      'Least severe level `serve` and `worker` log: `trace`, `debug`, `info`, `warn`, `error`, `fatal` or `silent`. Logs are JSON lines on stderr, one line of text each when stderr is a terminal.',
  }),
} as const;

export type VariableName = keyof typeof ENVIRONMENT;

/** The variables' names, in the table's order. */
export const VARIABLE_NAMES = Object.keys(ENVIRONMENT) as VariableName[];

/** Each variable's value: its kind's type, or undefined for one left unset that has no default. */
export type EnvironmentValues = {
  readonly [K in VariableName]: (typeof ENVIRONMENT)[K] extends Definition<infer T> ? T : never;
};

export interface Variable {
  readonly name: VariableName;
  /** What the variable means, in Markdown (names and values in backticks). */
  readonly description: string;
  /** The default: a value as it would be written, or what leaving the variable out means. */
  readonly default: string;
  /** Whether `default` is a value (shown as code) rather than words. */
  readonly literal: boolean;
  /** Heading it is listed under in docs/configuration.md. */
  readonly group: Group;
  /** Listed in the README's short table too. */
  readonly common: boolean;
  /** The commands that read it, whose `--help` lists it. */
  readonly commands: readonly CommandName[];
}

/** Every environment variable cases-etl reads, for docs and `--help`, in ENVIRONMENT's order. */
export const VARIABLES: readonly Variable[] = Object.freeze(
  VARIABLE_NAMES.map((name) => {
    const { description, shown, literal, group, common, commands } = ENVIRONMENT[name];
    return Object.freeze({
      name,
      description,
      default: shown,
      literal: literal !== undefined,
      group,
      common,
      commands,
    });
  }),
);
