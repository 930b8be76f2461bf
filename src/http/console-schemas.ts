import { listOf } from './schemas.js';

/**
 * The answers and queries of the console's routes (console.ts): paging, charts, the queue and who
 * is asking. Records the API already has (RunRecord, Reject) are shared by reference (schemas.ts).
 */

const count = { type: 'integer', minimum: 0 } as const;
const time = { type: 'string', format: 'date-time' } as const;

/** The run statuses a filter may name (store/types.ts RunStatus). */
export const RUN_STATUSES = ['running', 'succeeded', 'warning', 'failed', 'skipped', 'rolled_back'] as const;

const SCHOOL = { type: 'string', pattern: '^[A-Za-z0-9]+$', maxLength: 20 } as const;

/** `limit` (1 to `max`) and `offset` of a page. */
const paging = (max: number) => ({
  limit: { type: 'integer', minimum: 1, maximum: max },
  offset: { type: 'integer', minimum: 0, maximum: 10_000_000 },
});

export const RUN_PAGE_QUERY = {
  type: 'object',
  properties: { ...paging(200), school: SCHOOL, status: { type: 'string', enum: RUN_STATUSES } },
  additionalProperties: false,
} as const;

export const REJECT_PAGE_QUERY = {
  type: 'object',
  properties: paging(1000),
  additionalProperties: false,
} as const;

export const CHARTS_QUERY = {
  type: 'object',
  properties: { school: SCHOOL, days: { type: 'integer', minimum: 1, maximum: 400 } },
  required: ['school'],
  additionalProperties: false,
} as const;

/** A page of `items`: the list, how many there are in all, and where the page is. */
const pageOf = (description: string, items: Record<string, unknown>) =>
  ({
    type: 'object',
    description,
    properties: { items, total: count, limit: count, offset: count },
    required: ['items', 'total', 'limit', 'offset'],
    additionalProperties: false,
  }) as const;

export const RUN_PAGE = pageOf('A page of runs, newest first, and how many match the filter', listOf('RunRecord'));
export const REJECT_PAGE = pageOf(
  "A page of a run's rejects in file and line order (never the original lines), and how many it has",
  listOf('Reject'),
);

export const CHARTS = {
  type: 'object',
  description: "One school's finished runs since `since` (oldest first) and its tables' rows per run",
  properties: {
    school: { type: 'string' },
    since: time,
    maxErrorRate: { type: 'number', description: 'ETL_MAX_ERROR_RATE: a run rejecting a larger share fails' },
    runs: listOf('RunRecord'),
    tables: {
      type: 'array',
      description: 'Per table, the rows each run read from its full file (a shrinking table shows here first)',
      items: {
        type: 'object',
        properties: {
          table: { type: 'string' },
          points: {
            type: 'array',
            items: {
              type: 'object',
              properties: { runId: count, startedAt: time, rows: count },
              required: ['runId', 'startedAt', 'rows'],
              additionalProperties: false,
            },
          },
        },
        required: ['table', 'points'],
        additionalProperties: false,
      },
    },
  },
  required: ['school', 'since', 'maxErrorRate', 'runs', 'tables'],
  additionalProperties: false,
} as const;

export const QUEUE_STATE = {
  type: 'object',
  description: 'The next scheduled run and, with Redis, the queue by state',
  properties: {
    schedule: {
      type: 'object',
      properties: {
        pattern: { type: 'string', description: 'ETL_SCHEDULE' },
        timezone: { type: 'string', description: 'ETL_TIMEZONE' },
        next: { type: ['string', 'null'], format: 'date-time' },
        nextLocal: { type: ['string', 'null'], description: 'The next run in the schedule\u2019s time zone' },
        by: { type: 'string', enum: ['queue', 'in-process'], description: 'Who fires it: Redis, or this process' },
      },
      required: ['pattern', 'timezone', 'next', 'nextLocal', 'by'],
      additionalProperties: false,
    },
    queue: {
      type: ['object', 'null'],
      description: 'Jobs by state; null without Redis',
      properties: { waiting: count, active: count, delayed: count, failed: count },
      required: ['waiting', 'active', 'delayed', 'failed'],
      additionalProperties: false,
    },
    unavailable: { type: ['string', 'null'], description: 'Why the queue could not be read (Redis down), else null' },
    board: { type: ['string', 'null'], description: "Bull Board's address (admin), when Redis is configured" },
  },
  required: ['schedule', 'queue', 'unavailable', 'board'],
  additionalProperties: false,
} as const;

export const REJECTS_CSV = {
  description: "The run's rejects as CSV (RFC 4180; cells a spreadsheet would run as a formula start with ')",
  content: { 'text/csv': { schema: { type: 'string' } } },
} as const;
