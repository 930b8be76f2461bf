import type { FastifyInstance } from 'fastify';

/**
 * The JSON schemas of what the API answers, shared by `$id` (`{ $ref: 'RunRecord#' }`). They do
 * two jobs: Fastify serialises each answer with its route's schema (fast-json-stringify), and
 * @fastify/swagger puts them in /openapi.json as components. Serialisation drops any property a
 * schema does not list, so each one lists every field its type in store/types.ts (or the module
 * named) has: test/openapi.test.ts compares every route's answer with the unserialised object.
 */

const int = { type: 'integer' } as const;
const count = { type: 'integer', minimum: 0 } as const;
const num = { type: 'number' } as const;
const str = { type: 'string' } as const;
const bool = { type: 'boolean' } as const;
const time = { type: 'string', format: 'date-time' } as const;
const nullable = <T extends { type: string }>(s: T): Omit<T, 'type'> & { type: [T['type'], 'null'] } => ({
  ...s,
  type: [s.type, 'null'],
});

/** An object whose properties are all there (`required`) and nothing else. */
function closed(properties: Record<string, unknown>, optional: readonly string[] = []): Record<string, unknown> {
  return {
    type: 'object',
    properties,
    required: Object.keys(properties).filter((k) => !optional.includes(k)),
    additionalProperties: false,
  };
}

const RUN_STATUSES = ['running', 'succeeded', 'warning', 'failed', 'skipped', 'rolled_back'] as const;
const FINISHED_AS = ['succeeded', 'warning', 'failed', 'skipped'] as const;

/** store/types.ts MergeCounts, the row counts of a merge or a run. */
const MERGE_COUNTS = {
  inserted: count,
  updated: count,
  deactivated: count,
  reactivated: count,
  unchanged: count,
  held: { ...count, description: 'Rejected rows whose stored rows kept their last published version.' },
  deferred: { ...count, description: 'Rows a full file did not show, kept active until a clean night.' },
} as const;

/** Every error: the message, its stable code (docs/errors.md) and the HTTP status. */
const ErrorAnswer = {
  $id: 'Error',
  description: 'Every error answer has this shape; `code` is listed in docs/errors.md.',
  ...closed({ error: str, code: { type: 'string', pattern: '^ETL_[A-Z0-9_]+$' }, statusCode: int }),
};

/** store/types.ts RunRecord: a run as the ledger holds it. */
const RunRecord = {
  $id: 'RunRecord',
  description: 'A run as the ledger holds it.',
  ...closed({
    id: int,
    school: str,
    status: { type: 'string', enum: RUN_STATUSES },
    trigger: { type: 'string', enum: ['cli', 'library', 'schedule', 'manual', 'api'] },
    jobId: nullable(str),
    dryRun: bool,
    sourceDir: nullable(str),
    startedAt: time,
    finishedAt: nullable(time),
    durationMs: nullable(count),
    archivePath: nullable(str),
    rollbackId: { ...nullable(int), description: 'The rollback that undid this run.' },
    changesPruned: { ...bool, description: 'Its change log was pruned: it can no longer be rolled back.' },
    files: count,
    records: count,
    rows: count,
    rejected: count,
    errorRate: { type: 'number', minimum: 0 },
    filesetSha256: nullable(str),
    overrides: { type: 'array', items: str, description: 'Guard rails overridden (`force`, `allow-shrink`).' },
    reason: { ...nullable(str), description: 'Why the run was skipped or failed.' },
    errorCode: nullable(str),
    ...MERGE_COUNTS,
  }),
};

/** store/types.ts RunFileRecord: one file of a run. */
const RunFile = {
  $id: 'RunFile',
  description: 'One file a run read (or could not).',
  ...closed({
    fileName: str,
    table: str,
    tableId: str,
    mode: { type: 'string', enum: ['full', 'delta'] },
    sha256: str,
    bytes: count,
    records: count,
    rows: count,
    rejected: count,
    error: { ...nullable(str), description: 'Why the file could not be loaded.' },
    readAs: nullable(str),
    unchangedSince: { ...nullable(int), description: 'The run whose load of the same bytes this repeated.' },
    ...MERGE_COUNTS,
  }),
};

/** store/types.ts RejectRecord: where and why, the original line only for an admin who asked. */
const Reject = {
  $id: 'Reject',
  description: 'A rejected row: where and why. `originalLine` and `originalBytes` only with `?original=1` (admin).',
  ...closed(
    {
      file: str,
      line: int,
      key: nullable(str),
      field: nullable(str),
      code: str,
      message: str,
      originalLine: nullable(str),
      originalBytes: nullable(count),
    },
    ['originalLine', 'originalBytes'],
  ),
};

const UndoCounts = {
  $id: 'UndoCounts',
  description: 'What undoing one run does (or would do) to one table.',
  ...closed({ table: str, deleted: count, restored: count }),
};

const runUndo = closed({ runId: int, tables: { type: 'array', items: { $ref: 'UndoCounts#' } } });

/** store/types.ts RollbackRecord. */
const RollbackRecord = {
  $id: 'RollbackRecord',
  description: 'A rollback as the ledger holds it.',
  ...closed({
    id: int,
    school: str,
    targetRunId: int,
    runIds: { type: 'array', items: int },
    requestedBy: str,
    reason: nullable(str),
    startedAt: time,
    finishedAt: nullable(time),
    rowsDeleted: count,
    rowsRestored: count,
    detail: { type: 'array', items: runUndo },
  }),
};

/** pipeline/rollback.ts RollbackResult. */
const RollbackResult = {
  $id: 'RollbackResult',
  description: 'What a rollback did, or (dryRun) would do.',
  ...closed({
    rollbackId: { ...nullable(int), description: 'Null for a dry run.' },
    runId: int,
    school: str,
    dryRun: bool,
    runs: { type: 'array', items: runUndo },
    rowsDeleted: count,
    rowsRestored: count,
    notifications: {
      type: 'array',
      items: closed({
        channel: { type: 'string', enum: ['slack', 'teams', 'email'] },
        ok: bool,
        attempts: count,
        error: nullable(str),
      }),
    },
  }),
};

const byStatus = (statuses: readonly string[]): Record<string, unknown> => ({
  type: 'object',
  properties: Object.fromEntries(statuses.map((s) => [s, count])),
  additionalProperties: false,
});

/** store/types.ts SchoolSummary: one school's ledger in figures. */
const SchoolSummary = {
  $id: 'SchoolSummary',
  description: "One school's ledger in figures.",
  ...closed({
    school: str,
    runs: { ...byStatus(RUN_STATUSES), description: 'Finished runs (not dry runs) by status.' },
    finished: { ...byStatus(FINISHED_AS), description: 'Finished runs by what they finished as (only grows).' },
    running: count,
    rows: closed({ inserted: count, updated: count, deactivated: count, reactivated: count }),
    kept: closed({ held: count, deferred: count }),
    durations: {
      ...closed({ buckets: { type: 'array', items: count }, count, seconds: { type: 'number', minimum: 0 } }),
      description: 'Cumulative counts of finished runs at or under each bucket (seconds), as a histogram.',
    },
    rejected: count,
    rollbacks: count,
    lastRun: { anyOf: [{ $ref: 'RunRecord#' }, { type: 'null' }] },
    lastPublishedAt: nullable(time),
  }),
};

/** observability/health.ts HealthMetrics, over the last runs. */
const HealthMetrics = {
  $id: 'HealthMetrics',
  description: 'Averages over the last runs (not dry runs, skipped or running).',
  ...closed({
    runs: count,
    failureRate: num,
    errorRate: num,
    averageDurationMs: num,
    averageRows: num,
    lastPublishedAt: nullable(time),
  }),
};

const Health = {
  $id: 'Health',
  description: "The seed's levels: healthy, degraded (or nothing published for 36 hours), unhealthy.",
  ...closed({
    status: { type: 'string', enum: ['healthy', 'degraded', 'unhealthy'] },
    message: str,
    metrics: { $ref: 'HealthMetrics#' },
  }),
};

/** pipeline/history.ts RowHistory: one row's history, values only when asked for. */
const RowHistory = {
  $id: 'RowHistory',
  description: "One row's published changes, oldest first; `changes` (values) only with `show_values=true`.",
  ...closed({
    table: str,
    key: str,
    school: nullable(str),
    values: bool,
    entries: {
      type: 'array',
      items: closed(
        {
          school: str,
          run: int,
          time,
          op: { type: 'string', enum: ['inserted', 'updated', 'deactivated', 'reactivated', 'held'] },
          columns: { type: 'array', items: str },
          changes: {
            type: 'object',
            additionalProperties: closed({ from: nullable(str), to: nullable(str) }),
          },
          rejected: { type: 'array', items: closed({ field: nullable(str), code: str }) },
        },
        ['changes', 'rejected'],
      ),
    },
  }),
};

/** Every shared schema, in an order where each one's references come first. */
export const SHARED_SCHEMAS = [
  ErrorAnswer,
  RunRecord,
  RunFile,
  Reject,
  UndoCounts,
  RollbackRecord,
  RollbackResult,
  SchoolSummary,
  HealthMetrics,
  Health,
  RowHistory,
] as const;

/** Adds the shared schemas to `server`, for routes (and the OpenAPI document) to refer to by `$id`. */
export function addSharedSchemas(server: FastifyInstance): void {
  for (const schema of SHARED_SCHEMAS) server.addSchema(schema);
}

/** A reference to a shared schema by its `$id`. */
export const ref = (id: (typeof SHARED_SCHEMAS)[number]['$id']): { $ref: string } => ({ $ref: `${id}#` });

/** A schema's list: `[{ $ref }]`. */
export const listOf = (id: Parameters<typeof ref>[0]): Record<string, unknown> => ({
  type: 'array',
  description: `A list of ${id}`,
  items: ref(id),
});

// The answers of server.ts's routes that are not shared records.
export const LIVE = {
  type: 'object',
  description: 'The process is up',
  properties: { status: { const: 'ok' } },
  required: ['status'],
  additionalProperties: false,
} as const;
export const PROMETHEUS = {
  description: 'Prometheus text exposition format',
  content: { 'text/plain': { schema: { type: 'string' } } },
} as const;
export const READY = {
  type: 'object',
  description: 'Ready (200) when every check is ok, else not ready (503)',
  properties: {
    status: { type: 'string', enum: ['ready', 'not ready'] },
    checks: {
      type: 'object',
      description: "`database` (and `redis`, when configured): 'ok', or why not",
      additionalProperties: { type: 'string' },
    },
  },
  required: ['status', 'checks'],
  additionalProperties: false,
} as const;
export const RECENT = {
  type: 'object',
  description: 'The last ten runs, newest first, and their averages',
  properties: { recent: listOf('RunRecord'), average: ref('HealthMetrics') },
  required: ['recent', 'average'],
  additionalProperties: false,
} as const;
export const RUN_DETAIL = {
  type: 'object',
  description: 'The run, its files, and its first 100 rejects',
  properties: { run: ref('RunRecord'), files: listOf('RunFile'), rejects: listOf('Reject') },
  required: ['run', 'files', 'rejects'],
  additionalProperties: false,
} as const;
export const TRIGGERED = {
  type: 'object',
  description: 'Accepted: the run is queued (or started here)',
  properties: {
    jobId: { type: ['string', 'null'], description: 'The queued job; null when the run starts here' },
    created: { type: 'boolean', description: 'False when that school already had a run queued' },
    mode: { type: 'string', enum: ['queue', 'direct'] },
  },
  required: ['jobId', 'created', 'mode'],
  additionalProperties: false,
} as const;
export const SESSION = {
  type: 'object',
  description: 'Who this request is, as the dashboard draws it (no token is ever in it)',
  properties: {
    auth: { type: 'string', enum: ['none', 'token', 'oidc'], description: 'ETL_AUTH' },
    signedIn: { type: 'boolean', description: 'A token, a JWT or the sign-in cookie was accepted' },
    name: { type: ['string', 'null'], description: '`api:<token name>` or `oidc:<user>`; null when not signed in' },
    role: { type: ['string', 'null'], enum: ['viewer', 'admin', null] },
    csrfToken: {
      type: ['string', 'null'],
      description: 'To send as x-csrf-token on POSTs signed in by cookie; null otherwise',
    },
    signInUrl: { type: ['string', 'null'], description: 'Where to sign in (ETL_AUTH=oidc); null otherwise' },
    signOutUrl: { type: ['string', 'null'], description: 'Where to sign out (a cookie session); null otherwise' },
  },
  required: ['auth', 'signedIn', 'name', 'role', 'csrfToken', 'signInUrl', 'signOutUrl'],
  additionalProperties: false,
} as const;
