/**
 * The error catalogue: every stable code cases-etl reports, what it means and how to fix it.
 * `docs/errors.md` is kept in step with this table by a test (test/errors-doc.test.ts).
 *
 * Codes are grouped by stage: CONFIG (environment), LAYOUT (relationships.json and layouts),
 * SOURCE (the export folder), PARSE (bytes and records), ROW (row rules), TYPE (conversions).
 *
 * Each entry also carries what the code does outside the message (see `behaviourOf`): the CLI's
 * exit code (`exit`, default 1; 2 for what the operator must correct), the HTTP status an API
 * answer gets (`http`, default 500) and whether a job retries it (`retry`, default false: only
 * failures that clear up by themselves, such as the database or the share being down). These are
 * facts about the code, kept here so the CLI, HTTP and jobs cannot disagree.
 */
export const ERROR_CATALOGUE = {
  ETL_CONFIG_INVALID: {
    title: 'The configuration is invalid',
    fix: 'Correct each environment variable or option listed; every problem is reported at once.',
    exit: 2,
    http: 400,
  },
  ETL_USAGE: {
    title: 'A command was called the wrong way',
    fix: 'Run the command with --help to see its arguments.',
    exit: 2,
    http: 400,
  },
  ETL_LAYOUT_FILE_UNREADABLE: {
    title: 'relationships.json could not be read or is not JSON',
    fix: 'Check CASES_RELATIONSHIPS_JSON points at a readable JSON file; the message names the position of a syntax error.',
    exit: 2,
  },
  ETL_LAYOUT_INVALID: {
    title: 'relationships.json does not match the expected shape',
    fix: 'Each problem is listed with its JSON path (for example file_layouts["STUDENT.DAT"].columns[3].width); correct them and retry.',
    exit: 2,
  },
  ETL_LAYOUT_NO_KEY: {
    title: 'No primary key could be found for a table',
    fix: 'Add "primary_key": ["COLUMN"] to the table\'s file layout, or list its <TABLE>KEY or TID column in primary_keys.',
  },
  ETL_LAYOUT_KEY_INFERRED: {
    title: 'A layout names no primary key, so its first column, unique in the data profile, is used',
    fix: 'Nothing to do if that column identifies a row; add "primary_key": ["COLUMN"] to the file layout to say so and end this notice.',
  },
  ETL_LAYOUT_UNKNOWN_TABLE: {
    title: 'No layout is known for the table',
    fix: 'Use a table from `cases-etl layouts list`, or add a file layout for it to relationships.json.',
    exit: 2,
  },
  ETL_LAYOUT_KEY_CHANGED: {
    title: "A layout's primary key differs from the key of the mirror table already in the database",
    fix: 'Run `cases-etl migrate --rekey TABLE` to rebuild the mirror under the new key, or give the layout a different table_name.',
  },
  ETL_LAYOUT_REKEY_REFUSED: {
    title: "A mirror table cannot be rebuilt under the layout's key",
    fix: 'The message says why (a key column the table lacks, empty or repeated keys in stored rows); fix the layout or the data and retry.',
  },
  ETL_LAYOUT_SAMPLE_UNREADABLE: {
    title: 'The file given to `layouts infer` or `layouts check` could not be read',
    fix: 'Check the path and that this process may read the file.',
    exit: 2,
  },
  ETL_LAYOUT_INFER_EMPTY: {
    title: 'The file given to `layouts infer` holds no characters to infer columns from',
    fix: 'Give a file with data lines (a fixed-width .DAT file, or an eduHub CSV with a header).',
    exit: 2,
  },
  ETL_LAYOUT_WRITE_INVALID: {
    title: 'The file_layouts entry could not be merged into relationships.json',
    fix: 'The message says why: the file is not JSON, or the merged file would fail the checks of a normal load (each problem named by its JSON path); correct it and retry.',
    exit: 2,
  },
  ETL_SOURCE_NOT_FOUND: {
    title: 'The source folder does not exist or cannot be listed',
    fix: 'Check CASES_DIRECTORY (or --source) and that this process may read the folder.',
    retry: true,
  },
  ETL_SOURCE_UNKNOWN_FILE: {
    title: 'A file in the source folder matches no layout',
    fix: 'Nothing to do if the file is not CASES data; otherwise add a file layout for it to relationships.json.',
  },
  ETL_SOURCE_UNSTABLE: {
    title: 'A file was still being written',
    fix: "The file's size or modification time kept changing; it is read on the next run once the export has finished.",
  },
  ETL_SOURCE_STALE_DELTA: {
    title: 'A delta file is older than its full extract and is ignored',
    fix: "Nothing to do: the full extract already contains the delta's changes.",
  },
  ETL_SOURCE_NO_SCHOOL: {
    title: 'A fixed-width file has no school id',
    fix: 'Set CASES_SCHOOL_ID (or pass --school) so fixed-width files can be attributed to a school.',
  },
  ETL_SOURCE_REQUIRED_MISSING: {
    title: 'A required file is missing',
    fix: 'Check the export finished; the required tables come from ETL_REQUIRED_TABLES and layouts marked "required": true.',
  },
  ETL_SOURCE_DUPLICATE_TABLE: {
    title: 'Two files in the same night are the same table, so neither was loaded',
    fix: 'Remove or rename one of the files the message names (ST_8865.csv and st_8865.csv, or DF_8865.csv and STUDENT.DAT), then run again.',
  },
  ETL_SOURCE_UNREADABLE: {
    title: 'A file could not be read',
    fix: "Check the file's permissions and that the share is mounted; reads are retried before this is reported.",
  },
  ETL_PARSE_EMPTY_FILE: {
    title: 'A CSV file has no header row',
    fix: 'The export produced an empty file; re-run the export.',
  },
  ETL_PARSE_DUPLICATE_HEADER: {
    title: 'A CSV header names the same column twice',
    fix: 'The file is not a valid eduHub extract; re-run the export.',
  },
  ETL_PARSE_BAD_HEADER: {
    title: 'A CSV header has a name that cannot be a column',
    fix: 'A header name may not be empty (a trailing comma), hold control characters or exceed 63 bytes; re-run the export.',
  },
  ETL_PARSE_RESERVED_HEADER: {
    title: "A CSV header uses a name reserved for the loader's own columns",
    fix: 'school_id and names starting with _ are bookkeeping; the file is not a valid eduHub extract, so re-run the export.',
  },
  ETL_PARSE_KEY_COLUMN_MISSING: {
    title: 'A CSV header lacks a primary key column',
    fix: "The file cannot be loaded without its key; check the layout's primary_key or the export.",
  },
  ETL_PARSE_UNKNOWN_COLUMN: {
    title: 'A CSV header has columns the layout does not know',
    fix: 'Usually a new CASES21 release; the columns are kept as text. Add them to the layout to give them types.',
  },
  ETL_PARSE_MISSING_COLUMNS: {
    title: 'A CSV header lacks columns the layout has',
    fix: 'The missing columns read as null; nothing to do unless they matter to you.',
  },
  ETL_PARSE_BAD_QUOTE: {
    title: 'A quoted field is malformed',
    fix: 'A closing quote is followed by something other than a comma or line end; fix the value in CASES21.',
  },
  ETL_PARSE_UNTERMINATED_QUOTE: {
    title: 'A quoted field never ends',
    fix: 'An opening quote has no closing quote; the rest of that line is rejected and reading resumes on the next line.',
  },
  ETL_PARSE_FIELD_COUNT: {
    title: 'A record has more fields than the header',
    fix: 'Usually an unquoted comma inside a value; fix the value in CASES21.',
  },
  ETL_PARSE_LINE_TOO_LONG: {
    title: 'A line is longer than ETL_MAX_LINE_BYTES',
    fix: 'The line was skipped unread, and the next line was read as usual; re-run the export, or raise ETL_MAX_LINE_BYTES if such lines are real.',
  },
  ETL_PARSE_SHORT_LINE: {
    title: 'A fixed-width line is shorter than its layout',
    fix: "The line ends before the last column; check the layout's widths or the export.",
  },
  ETL_PARSE_LONG_LINE: {
    title: 'A fixed-width line is longer than its layout',
    fix: "There are characters after the last column; check the layout's widths or the export.",
  },
  ETL_PARSE_TAB: {
    title: 'A fixed-width line contains a tab',
    fix: 'Tabs break character positions; the export must pad with spaces.',
  },
  ETL_PARSE_ENCODING_INVALID: {
    title: "Bytes are not valid in the file's encoding",
    fix: 'Set "encoding" on the layout to the file\'s real encoding (windows-1252 or utf-8).',
  },
  ETL_PARSE_ENCODING_MISMATCH: {
    title: 'Text looks UTF-8 encoded but is read as Windows-1252',
    fix: 'Set "encoding": "utf-8" on the layout, or export the file as Windows-1252.',
  },
  ETL_ROW_KEY_MISSING: {
    title: 'A row has no value in a primary key column',
    fix: 'Every row needs its key; fix the record in CASES21.',
  },
  ETL_ROW_DUPLICATE_KEY: {
    title: 'A key appears twice in one file',
    fix: 'The first row with the key is kept and later ones are rejected; check the export.',
  },
  ETL_ROW_REQUIRED: {
    title: 'A required field is empty',
    fix: 'Fill the field in CASES21, or drop "required" from the layout if it may be empty.',
  },
  ETL_ROW_NUL: {
    title: 'A value holds a NUL character (U+0000)',
    fix: 'Neither database can store it faithfully; remove the character from the record in CASES21.',
  },
  ETL_ROW_TOO_LONG: {
    title: 'A text value is longer than its column allows',
    fix: "Shorten the value in CASES21, or raise the column's width in the layout.",
  },
  ETL_TYPE_INT: {
    title: 'A value is not a whole number',
    fix: "The column holds integers; fix the value or the column's type in the layout.",
  },
  ETL_TYPE_INT_RANGE: {
    title: 'A whole number is out of range for its column',
    fix: "The value does not fit the column's integer size; fix the value or the layout.",
  },
  ETL_TYPE_DECIMAL: {
    title: 'A value is not a number',
    fix: 'The column holds numbers written with a dot and no thousands separator.',
  },
  ETL_TYPE_DATE: {
    title: 'A value is not a date in an accepted format',
    fix: 'Dates are d/MM/yyyy h:mm:ss tt (eduHub), YYYYMMDD (fixed-width) or ISO 8601.',
  },
  ETL_TYPE_DATE_INVALID: {
    title: 'A date does not exist in the calendar',
    fix: 'The value has the right shape but is not a real date (for example 31/02/2019); fix it in CASES21.',
  },
  ETL_GUARD_ERROR_RATE: {
    title: 'Too many rows were rejected, so nothing was published',
    fix: 'Look at the rejects (`cases-etl runs --id N`, etl_rejects) and fix the export; `--override-guards` publishes anyway for one run.',
  },
  ETL_GUARD_SHRINK: {
    title: 'A full file shrank too much against the last published load, so nothing was published',
    fix: 'Check the export is complete; if the drop is real (say, a new year), rerun with `--allow-shrink`.',
  },
  ETL_GUARD_EMPTY: {
    title: 'A full file had no rows, so nothing was published',
    fix: 'An empty extract would mark every row inactive; check the export, or rerun with `--allow-shrink` if it is right.',
  },
  ETL_GUARD_REQUIRED: {
    title: 'A required table was missing or unreadable, so nothing was published',
    fix: 'Check the export finished; `--override-guards` publishes without it for one run.',
  },
  ETL_GUARD_UNREADABLE: {
    title: 'A file of a known table could not be read, so nothing was published',
    fix: "The file's own error says why (its layout, encoding, header or permissions); fix it and run again, or `--override-guards` publishes the other tables for one run.",
  },
  ETL_LOAD_DEFERRED: {
    title: 'Deactivations were put off: rejected rows had no readable key',
    fix: 'Rows missing from the full file stay active tonight, since a rejected row without a key could be any of them; fix the rejects and the next clean night applies them.',
  },
  ETL_VIEW_KEPT: {
    title: "A view kept its old definition: views of the database's own depend on it",
    fix: "The night's rows are published and the view still reads them, as its earlier definition did. Drop (or change) the views the message names, the next run replaces it, then create them again.",
  },
  ETL_RUN_LOCKED: {
    title: 'Another run of the same school did not finish in time',
    fix: 'Wait for the other run (see `cases-etl runs`), or raise ETL_LOCK_TIMEOUT_MS.',
    http: 409,
    retry: true,
  },
  ETL_RUN_INTERRUPTED: {
    title: 'A run ended without finishing (the process was killed or the machine stopped)',
    fix: 'Nothing it did was published; the next run loads the export again.',
  },
  ETL_JOB_STALLED: {
    title: 'A job was given up: its worker stopped in the middle of its run more than once',
    fix: "Nothing was published, and the job's run is marked failed in the ledger with the job id. Find why the worker stopped (its logs; the system's for the out-of-memory killer), then `cases-etl trigger --school N` runs the school again.",
  },
  ETL_JOB_NO_WORKER: {
    title: 'trigger --wait queued a run, but no worker is connected to the queue to take it',
    fix: 'Start `cases-etl serve` (or `cases-etl worker`) against the same REDIS_URL and ETL_QUEUE_PREFIX; the job stays queued and runs when one starts.',
  },
  ETL_JOB_LOST: {
    title: 'A queued job went from the queue before it settled',
    fix: 'Someone removed it, or Redis lost it (an eviction policy other than noeviction, or a restart without persistence); `cases-etl runs` shows whether its run happened, and `trigger` queues it again.',
  },
  ETL_RUN_UNKNOWN: {
    title: 'No run has that id',
    fix: 'See `cases-etl runs` for the run ids.',
    exit: 2,
    http: 404,
  },
  ETL_ROLLBACK_NOT_PUBLISHED: {
    title: 'The run published nothing, so there is nothing to roll back',
    fix: 'Only succeeded and warning runs change data; failed, skipped and dry runs never did.',
    http: 409,
  },
  ETL_ROLLBACK_ALREADY: {
    title: 'The run was already rolled back',
    fix: 'Nothing to do; `cases-etl runs` shows which rollback undid it.',
    http: 409,
  },
  ETL_ROLLBACK_BLOCKED: {
    title: 'Later runs of the same school stand in the way',
    fix: 'Roll back the later runs first, or pass --cascade to undo them too, newest first.',
    http: 409,
  },
  ETL_ROLLBACK_PRUNED: {
    title: "The run's change history was pruned",
    fix: 'Only the newest ETL_SNAPSHOT_RETENTION published runs per school can be rolled back; raise it to keep more history. Rekeying a table (`cases-etl migrate --rekey`) prunes every run that changed it.',
    http: 409,
  },
  ETL_HISTORY_UNKNOWN_TABLE: {
    title: 'No run has read a file for the table whose history was asked for',
    fix: 'Name a table the school loads, by its CASES id (`ST`, `SXAB`; any case) or table id (`ST_8865`); the message lists the tables runs have read.',
    exit: 2,
    http: 404,
  },
  ETL_HISTORY_NOT_FOUND: {
    title: 'The row has no published change in the history kept',
    fix: "Check the key (a composite key's parts joined by `|`) and the school. Changes are kept in full for ETL_SNAPSHOT_RETENTION runs and in compact form for ETL_HISTORY_DAYS days after; a rolled-back run's changes are not history.",
    http: 404,
  },
  ETL_HTTP_HOST_REFUSED: {
    title: 'An HTTP request named a host this server does not answer for',
    fix: "Reach serve by a name in ETL_ALLOWED_HOSTS (by default HOST, localhost and ETL_PUBLIC_URL's host), or add the name you use to it.",
    http: 421,
  },
  ETL_HTTP_NOT_FOUND: {
    title: 'No HTTP route has that method and path',
    fix: 'See docs/jobs-and-http.md for the routes; every API route is under /api/cases-etl/.',
    exit: 2,
    http: 404,
  },
  ETL_HTTP_INVALID_REQUEST: {
    title: 'An HTTP request was not valid: its parameters, query or body',
    fix: 'The message names what is wrong; see docs/jobs-and-http.md for what each route takes.',
    exit: 2,
    http: 400,
  },
  ETL_HTTP_UNAUTHORIZED: {
    title: 'A route that needs a signed-in user or a bearer token was called without either',
    fix: 'Send `Authorization: Bearer <token>` with a token from ETL_ADMIN_TOKENS (or ETL_VIEWER_TOKENS for reads), or sign in at /auth/login when ETL_AUTH=oidc; see docs/auth.md.',
    exit: 2,
    http: 401,
  },
  ETL_HTTP_FORBIDDEN: {
    title: 'An admin route was called, but no admin tokens are configured',
    fix: 'Set ETL_ADMIN_TOKENS (name:token pairs) on the server to allow triggering and rolling back over HTTP.',
    exit: 2,
    http: 403,
  },
  ETL_AUTH_REQUIRED: {
    title: 'serve would listen beyond this machine with no sign-in configured',
    fix: 'Set ETL_ADMIN_TOKENS (and ETL_VIEWER_TOKENS) or ETL_AUTH=oidc with ETL_OIDC_ISSUER and ETL_OIDC_CLIENT_ID; or listen on loopback (HOST=127.0.0.1) behind a proxy that signs users in, or set ETL_AUTH=none to accept an open server on purpose.',
    exit: 2,
    http: 500,
  },
  ETL_AUTH_TOKEN_INVALID: {
    title:
      'A bearer token was refused: expired, for another audience or issuer, badly signed or signed by an unknown key',
    fix: "The message says which check failed; get a new token from the issuer for ETL_OIDC_AUDIENCE, check the server's clock, and check ETL_OIDC_ISSUER names the issuer the token came from.",
    exit: 2,
    http: 401,
  },
  ETL_AUTH_FORBIDDEN: {
    title: 'A viewer called a route that needs the admin role',
    fix: 'Use an admin token (ETL_ADMIN_TOKENS), or add the user to a group in ETL_OIDC_ADMIN_GROUPS or give them a role in ETL_OIDC_ADMIN_ROLES and sign in again.',
    exit: 2,
    http: 403,
  },
  ETL_AUTH_CSRF: {
    title: "A request signed in by cookie changed data without the session's CSRF token",
    fix: 'Send the `csrfToken` of GET /api/cases-etl/session as the `x-csrf-token` header (the dashboard does); a bearer token needs none.',
    exit: 2,
    http: 403,
  },
  ETL_OIDC_UNAVAILABLE: {
    title: 'The OpenID Connect issuer could not be reached or its discovery document or keys could not be read',
    fix: 'Check ETL_OIDC_ISSUER (its /.well-known/openid-configuration must answer from this server) and the way out to it; the next request tries again.',
    http: 503,
  },
  ETL_OIDC_SIGNIN_FAILED: {
    title: 'Signing in through the OpenID Connect issuer failed',
    fix: 'Start again at /auth/login (a sign-in must finish within 10 minutes, in the browser that began it); the message says what the issuer or the checks refused, e.g. ETL_OIDC_CLIENT_ID or the redirect URI registered for it.',
    exit: 2,
    http: 400,
  },
  ETL_HTTP_LISTEN_FAILED: {
    title: 'serve or worker could not listen for HTTP on HOST:PORT',
    fix: 'Set PORT to a port nothing else holds (serve and each worker on one machine need their own; PORT=0 takes any free one) and HOST to an address of this machine; ports below 1024 need privileges.',
    exit: 2,
  },
  ETL_DB_UNAVAILABLE: {
    title: 'The database could not be reached or failed',
    fix: 'Check DATABASE_URL (host, port, database name, user, password) and that the database is up and accepting connections; nothing was written, so the command or run can be retried as it is.',
    http: 503,
    retry: true,
  },
  ETL_LEDGER_OUTDATED: {
    title: 'The ledger was written by an older cases-etl and lacks migrations this one needs',
    fix: 'Run `cases-etl migrate` (or start `serve`, which migrates when it starts); a read-only command never changes the database itself.',
  },
  ETL_REDIS_UNAVAILABLE: {
    title: 'Redis could not be reached',
    fix: 'Check REDIS_URL (or REDIS_HOST and REDIS_PORT) and that Redis is running and reachable from here; nothing was queued. Unset REDIS_URL to run without the queue.',
    http: 503,
    retry: true,
  },
  ETL_INTERNAL: {
    title: 'cases-etl failed in a way it did not foresee',
    fix: 'Nothing was published and the run is not retried; report the message (it carries no personal data) so it can be fixed.',
  },
} as const satisfies Record<string, CatalogueEntry>;

/** One code's entry: what it means, how to fix it, and what it does (defaults in `behaviourOf`). */
interface CatalogueEntry {
  readonly title: string;
  readonly fix: string;
  readonly exit?: 1 | 2;
  readonly http?: number;
  readonly retry?: boolean;
}

/** Every stable error code. */
export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** What a code does beyond its message. */
export interface ErrorBehaviour {
  /** The CLI's exit code: 1 a run or command failed, 2 the operator must correct usage or configuration. */
  readonly exit: 1 | 2;
  /** The HTTP status of an API answer that fails with the code. */
  readonly http: number;
  /** Whether a job tries again: the failure may clear up by itself. */
  readonly retry: boolean;
}

/** The code's exit code, HTTP status and retry, with the catalogue's defaults (1, 500, no retry). */
export function behaviourOf(code: ErrorCode): ErrorBehaviour {
  const entry: CatalogueEntry = ERROR_CATALOGUE[code];
  return { exit: entry.exit ?? 1, http: entry.http ?? 500, retry: entry.retry ?? false };
}
