import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

import type { FastifyInstance } from 'fastify';

import { coerceError, EtlError } from '../errors/index.js';
import { localTime, nextRunTimes, registeredSchedule } from '../jobs/index.js';
import type { RunStatus } from '../store/index.js';
import type { AccessCheck } from './auth/index.js';
import {
  CHARTS,
  CHARTS_QUERY,
  QUEUE_STATE,
  REJECT_PAGE,
  REJECT_PAGE_QUERY,
  REJECTS_CSV,
  RUN_PAGE,
  RUN_PAGE_QUERY,
} from './console-schemas.js';
import { csvRow } from './csv.js';
import { QUEUES_BOARD_PATH } from './queues-board.js';
import { RUN_ID, runIdOf } from './run-id.js';
import type { HttpDeps, ServerContext } from './server.js';

/**
 * The operator console's routes: runs paged and filtered, a run's rejects paged and (admin) as
 * CSV, the charts' series, the schedule and queue, and who is asking. The dashboard draws them;
 * "Run now" is the API's own POST /api/cases-etl/trigger. Counts, codes, keys and file names only:
 * no original line leaves through here.
 */

/** What these routes ask of the access check (auth/index.ts). */
export type ConsoleAdmin = Pick<AccessCheck, 'mode' | 'requireAdmin' | 'who' | 'isAdmin'>;

/** uPlot, served from node_modules: the page loads nothing from a CDN (school servers often have no way out). */
const require = createRequire(import.meta.url);
const UPLOT = {
  '/assets/uplot.js': { file: 'uplot/dist/uPlot.iife.min.js', type: 'text/javascript; charset=utf-8' },
  '/assets/uplot.css': { file: 'uplot/dist/uPlot.min.css', type: 'text/css; charset=utf-8' },
} as const;

/** Rejects read per query while writing the CSV. */
const CSV_PAGE = 5000;
/** How long the queue's state may take to read from Redis, in ms. */
const QUEUE_READ_MS = 2000;
/** How far back the charts look by default, in days. */
const CHART_DAYS = 60;

/**
 * Registers the console's routes and uPlot's files on `routes` (serve's API plugin). `deps` is
 * the API's own (Run now posts to /api/cases-etl/trigger); `admin` is server.ts's token check.
 */
export function registerConsoleRoutes(
  routes: FastifyInstance,
  app: ServerContext,
  _deps: HttpDeps,
  admin: ConsoleAdmin,
): void {
  for (const [path, asset] of Object.entries(UPLOT)) {
    // Read once, at start, like the dashboard's own files.
    const body = readFileSync(require.resolve(asset.file), 'utf8');
    routes.get(path, { schema: { hide: true } }, async (_req, reply) =>
      reply.header('cache-control', 'public, max-age=86400').type(asset.type).send(body),
    );
  }

  routes.get<{ Querystring: { limit?: number; offset?: number; school?: string; status?: RunStatus } }>(
    '/api/cases-etl/console/runs',
    {
      schema: {
        summary: 'A page of runs, by school and status',
        querystring: RUN_PAGE_QUERY,
        response: { 200: RUN_PAGE },
      },
    },
    async (req) => {
      const { limit = 25, offset = 0, school = null, status = null } = req.query;
      const page = await app.store.pageRuns({ limit, offset, school, status });
      return { ...page, limit, offset };
    },
  );

  routes.get<{ Params: { id: string }; Querystring: { limit?: number; offset?: number } }>(
    '/api/cases-etl/runs/:id/rejects',
    {
      schema: {
        summary: "A page of a run's rejects (no original lines)",
        params: RUN_ID,
        querystring: REJECT_PAGE_QUERY,
        response: { 200: REJECT_PAGE },
      },
    },
    async (req) => {
      const id = await knownRun(app, req.params.id);
      const { limit = 100, offset = 0 } = req.query;
      const page = await app.store.pageRejects(id, limit, offset);
      // Keys are student codes: with sign-in on, a viewer sees the rest of each reject, not its key.
      const keys = admin.mode === 'none' || admin.isAdmin(req);
      const items = keys ? page.items : page.items.map((r) => ({ ...r, key: null }));
      return { ...page, items, limit, offset };
    },
  );

  routes.get<{ Params: { id: string } }>(
    '/api/cases-etl/runs/:id/rejects.csv',
    {
      onRequest: admin.requireAdmin,
      schema: {
        summary: "All of a run's rejects as CSV, safe to open in a spreadsheet (no original lines)",
        params: RUN_ID,
        response: { 200: REJECTS_CSV },
      },
    },
    async (req, reply) => {
      const id = await knownRun(app, req.params.id);
      let csv = csvRow(['file', 'line', 'key', 'field', 'code', 'message']);
      // Paged, so one run's rejects (up to ETL_MAX_STORED_REJECTS) are read in bounded pieces.
      for (let offset = 0; ; offset += CSV_PAGE) {
        const { items } = await app.store.pageRejects(id, CSV_PAGE, offset);
        for (const r of items) csv += csvRow([r.file, r.line, r.key, r.field, r.code, r.message]);
        if (items.length < CSV_PAGE) break;
      }
      app.logger.info({ runId: id, by: admin.who(req) }, 'rejects downloaded as CSV');
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="run-${id}-rejects.csv"`)
        .send(csv);
    },
  );

  routes.get<{ Querystring: { school: string; days?: number } }>(
    '/api/cases-etl/console/charts',
    {
      schema: {
        summary: "One school's runs and tables over the last nights, for charts",
        querystring: CHARTS_QUERY,
        response: { 200: CHARTS },
      },
    },
    async (req) => {
      const { school, days = CHART_DAYS } = req.query;
      // From a whole minute: two asks in the same minute are answered alike.
      const since = new Date(Math.floor((Date.now() - days * 86_400_000) / 60_000) * 60_000);
      const [runs, files] = await Promise.all([
        app.store.chartRuns(school, since),
        app.store.chartTableRows(school, since),
      ]);
      // Full extracts only: a delta's row count says how much changed, not how big the table is.
      const tables = new Map<string, Array<{ runId: number; startedAt: string; rows: number }>>();
      for (const f of files) {
        if (f.mode !== 'full') continue;
        const points = tables.get(f.table) ?? [];
        if (!tables.has(f.table)) tables.set(f.table, points);
        points.push({ runId: f.runId, startedAt: f.startedAt, rows: f.rows });
      }
      return {
        school,
        since: since.toISOString(),
        maxErrorRate: app.config.maxErrorRate,
        runs,
        tables: [...tables].sort(([a], [b]) => a.localeCompare(b)).map(([table, points]) => ({ table, points })),
      };
    },
  );

  routes.get(
    '/api/cases-etl/console/queue',
    { schema: { summary: 'The next scheduled run and the queue by state', response: { 200: QUEUE_STATE } } },
    async () => {
      const { schedule: pattern, timezone } = app.config.jobs;
      let next: Date | null = nextRunTimes(pattern, timezone, new Date(), 1)[0] ?? null;
      let queue = null;
      let unavailable: string | null = null;
      if (app.queue && app.redis?.status !== 'ready') {
        // A command to a Redis that is down waits for it to come back: the page must not.
        unavailable = `Redis is unavailable (connection ${app.redis?.status ?? 'closed'})`;
      } else if (app.queue) {
        try {
          const queueNow = app.queue;
          const read = async () =>
            [
              await registeredSchedule(queueNow),
              await queueNow.getJobCounts('waiting', 'active', 'delayed', 'failed'),
            ] as const;
          const [registered, counts] = await withTimeout(read(), QUEUE_READ_MS);
          // Redis holds the schedule that fires; it equals ETL_SCHEDULE once serve has registered it.
          next = registered?.next ?? next;
          queue = {
            waiting: counts.waiting ?? 0,
            active: counts.active ?? 0,
            delayed: counts.delayed ?? 0,
            failed: counts.failed ?? 0,
          };
        } catch (err) {
          unavailable = `Redis did not answer: ${coerceError(err).message}`;
        }
      }
      return {
        schedule: {
          pattern,
          timezone,
          next: next?.toISOString() ?? null,
          nextLocal: next ? localTime(next, timezone) : null,
          by: app.queue ? 'queue' : 'in-process',
        },
        queue,
        unavailable,
        board: app.queue ? QUEUES_BOARD_PATH : null,
      };
    },
  );
}

/** The run id of a route, once the run is known to exist (ETL_RUN_UNKNOWN, 404, if not). */
async function knownRun(app: ServerContext, raw: string): Promise<number> {
  const id = runIdOf(raw);
  if (!(await app.store.getRun(id))) throw new EtlError('ETL_RUN_UNKNOWN', `there is no run ${id}`);
  return id;
}

/** `promise`, or an Error after `ms`. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
