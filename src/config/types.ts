import type { NotificationConfig } from './notifications.js';
import type { AuthMode, LogLevel, ViewNaming } from './values.js';

/**
 * The one typed configuration, built from the environment once at start-up. Every variable is
 * described, with its default, in src/config/schema.ts (the README's table, docs/configuration.md
 * and `--help` are generated from it), every problem is reported together, and the result is
 * deep-frozen. No other module reads process.env.
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
  /** Days the compact history of changes is kept past the rollback window (ETL_HISTORY_DAYS), default 400. */
  readonly historyDays: number;
  /** Column names of the built-in views (ETL_VIEW_NAMING), default `snake`. */
  readonly viewNaming: ViewNaming;
  /** How much of a source line is read and how much of a rejected one is kept. */
  readonly lines: LineLimits;
  /** The job queue and its schedule. */
  readonly jobs: JobsConfig;
  /** The HTTP server of `serve`. */
  readonly http: HttpConfig;
  /** Slack, Teams and email notifications of run outcomes. */
  readonly notifications: NotificationConfig;
  /** Least severe level the long-running commands (serve, worker) log (LOG_LEVEL), default info. */
  readonly logLevel: LogLevel;
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
  /** How long a one-off command waits for Redis before ETL_REDIS_UNAVAILABLE, in ms (ETL_REDIS_CONNECT_TIMEOUT_MS), default 10000. */
  readonly redisConnectTimeoutMs: number;
}

export interface HttpConfig {
  /** TCP port (PORT), default 3000. */
  readonly port: number;
  /** Listen address (HOST), default 127.0.0.1. */
  readonly host: string;
  /** Bearer tokens with the admin role (ETL_ADMIN_TOKENS, comma-separated `name:token` or `token`). */
  readonly adminTokens: readonly NamedToken[];
  /** Who may use the HTTP server, and how they prove it (ETL_AUTH, ETL_VIEWER_TOKENS, ETL_OIDC_*). */
  readonly auth: AuthConfig;
  /** The address people reach serve at, e.g. through a proxy (ETL_PUBLIC_URL, http or https); null when not set. */
  readonly publicUrl: string | null;
  /**
   * Host names a request's Host header may name, port ignored (ETL_ALLOWED_HOSTS); null (`*`) allows any.
   * Default: HOST (unless 0.0.0.0 or ::), localhost, 127.0.0.1, ::1 and ETL_PUBLIC_URL's host. Refusing
   * the rest stops DNS rebinding: a page elsewhere cannot reach a loopback-bound dashboard by a name of its own.
   */
  readonly allowedHosts: readonly string[] | null;
}

/** A bearer token and the name it is known by in the ledger (`api:<name>`); the token itself is never logged. */
export interface NamedToken {
  readonly name: string;
  readonly token: string;
}

export interface AuthConfig {
  /** ETL_AUTH: `none` leaves reads open; `token` and `oidc` ask every route but the probes for a viewer at least. */
  readonly mode: AuthMode;
  /** Whether ETL_AUTH was set, rather than following from what is configured (an open server on purpose). */
  readonly modeSet: boolean;
  /** Bearer tokens with the viewer role (ETL_VIEWER_TOKENS). */
  readonly viewerTokens: readonly NamedToken[];
  /** The issuer users sign in at; set when mode is `oidc`, null otherwise. */
  readonly oidc: OidcConfig | null;
  /** Key that seals the session cookie (ETL_SESSION_SECRET); null: a random key per process. */
  readonly sessionSecret: string | null;
}

export interface OidcConfig {
  /** The issuer URL (ETL_OIDC_ISSUER), as its discovery document names it. */
  readonly issuer: string;
  /** The client id registered at the issuer (ETL_OIDC_CLIENT_ID). */
  readonly clientId: string;
  /** The client secret (ETL_OIDC_CLIENT_SECRET); null for a public client (PKCE only). */
  readonly clientSecret: string | null;
  /** The `aud` a bearer JWT must carry (ETL_OIDC_AUDIENCE), default the client id. */
  readonly audience: string;
  /** Group ids whose members are admins (ETL_OIDC_ADMIN_GROUPS). */
  readonly adminGroups: readonly string[];
  /** Role names whose holders are admins (ETL_OIDC_ADMIN_ROLES). */
  readonly adminRoles: readonly string[];
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

export type DatabaseConfig =
  | { readonly kind: 'sqlite'; readonly path: string }
  | {
      readonly kind: 'postgres';
      readonly url: string;
      readonly schema: string;
      /** How long a connection may take to open, in ms (ETL_DB_CONNECT_TIMEOUT_MS), default 10000. */
      readonly connectTimeoutMs?: number;
    };

export interface RetryConfig {
  /** Attempts in all, including the first (default 3). */
  readonly attempts: number;
  /** Delay before the first retry in ms (default 1000); each later delay is `factor` times longer. */
  readonly delayMs: number;
  /** Growth of the delay between retries (default 2). */
  readonly factor: number;
}

/** Values given on the command line, which win over the environment. */
export interface ConfigOverrides {
  sourceDirectory?: string | undefined;
  schoolId?: string | undefined;
}
