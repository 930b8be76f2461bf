import { timingSafeEqual } from 'node:crypto';

import type { Queue } from 'bullmq';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';

import type { Config } from '../config/index.js';
import { coerceError, behaviourOf, describeFailure, EtlError, isEtlError } from '../errors/index.js';
import type { Notifier } from '../notify/index.js';
import { assessHealth, type Logger, createMetrics, summariseRuns } from '../observability/index.js';
import { rollbackRun } from '../pipeline/index.js';
import { storeFailureKind, type Store } from '../store/index.js';
import { VERSION } from '../version.js';
import { registerConsoleRoutes } from './console.js';
import { registerDashboard } from './dashboard.js';
import { registerHistoryRoute } from './history.js';
import { ADMIN_SCHEME, registerOpenApi } from './openapi.js';
import { registerQueuesBoard } from './queues-board.js';
import { LIVE, listOf, PROMETHEUS, READY, RECENT, ref, RUN_DETAIL, TRIGGERED } from './schemas.js';
import { RUN_ID, runIdOf } from './run-id.js';
import { registerHostCheck, registerSecurityHeaders } from './security.js';

/**
 * What the HTTP layer reads of the running app. Named here rather than imported from app/, which
 * builds the server: the composition root depends on its parts, never the other way round.
 */
export interface ServerContext {
  readonly config: Config;
  readonly logger: Logger;
  readonly store: Store;
  readonly notifier: Notifier;
  /** The queue and its connection, when Redis is configured (readiness and metrics read them). */
  readonly queue: Queue | null;
  readonly redis: Redis | null;
}

/** What the HTTP layer can ask of the rest: queue a run (or run it, without Redis). */
export interface HttpDeps {
  trigger(input: {
    school: string | null;
    force: boolean;
    requestedBy: string;
  }): Promise<{ jobId: string | null; created: boolean; mode: 'queue' | 'direct' }>;
}

function tokenMatches(given: string, wanted: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(wanted);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** An error as every route answers one: its message, its code and the HTTP status (the code's, unless given). */
function sendError(reply: FastifyReply, err: EtlError, status = behaviourOf(err.code).http): FastifyReply {
  return reply.code(status).send({ error: err.message, code: err.code, statusCode: status });
}

/** How long /readyz waits for Redis to answer PING, in ms. */
const READY_PING_MS = 2000;

/** `promise`, or an Error with `message` after `ms`. */
function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The HTTP API, built apart from listen() so tests use inject(). Health and metrics are open (they
 * carry counts, never personal data); triggering and rolling back need a bearer token from
 * ETL_ADMIN_TOKENS. Every request must name an allowed host (ETL_ALLOWED_HOSTS), and every answer
 * carries the security headers (security.ts).
 */
export function buildServer(app: ServerContext, deps: HttpDeps): FastifyInstance {
  return buildHttp(app, deps);
}

/**
 * A `worker`'s HTTP: /livez, /readyz and /metrics only, the very routes (host check, headers and
 * error shape included) `serve` answers. No dashboard and no API: the dashboard is drawn from the
 * API, and the API triggers and rolls back, which belong to serve; a worker then holds no admin
 * token and answers nothing that changes data.
 */
export function buildProbeServer(app: ServerContext): FastifyInstance {
  return buildHttp(app, null);
}

/** The admin token check of the admin routes, and the name of the token a request gave. */
interface AdminCheck {
  /** An onRequest hook: 401 (403 with no tokens configured) unless the request has a valid bearer token. */
  requireAdmin(req: FastifyRequest, reply: FastifyReply): Promise<void>;
  /** The name of the token requireAdmin accepted for `req`, for the ledger. */
  adminName(req: FastifyRequest): string;
}

function createAdminCheck(app: ServerContext): AdminCheck {
  // The token's name, for each request whose token was checked (requireAdmin), for the ledger.
  const adminOf = new WeakMap<FastifyRequest, string>();
  /**
   * The admin check, as an onRequest hook: it runs before the body is read, so a client without a
   * token cannot make the server take in and parse a body (up to Fastify's 1 MiB limit) at all.
   */
  const requireAdmin = async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const header = req.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7) : '';
    const tokens = app.config.http.adminTokens;
    const match = tokens.find((t) => given !== '' && tokenMatches(given, t.token));
    if (match) {
      adminOf.set(req, match.name);
      return;
    }
    await sendError(
      reply,
      tokens.length === 0
        ? new EtlError('ETL_HTTP_FORBIDDEN', 'no admin tokens are configured (ETL_ADMIN_TOKENS)')
        : new EtlError('ETL_HTTP_UNAUTHORIZED', 'a valid bearer token is required'),
    );
  };
  const adminName = (req: FastifyRequest): string => {
    const name = adminOf.get(req);
    // Only reachable if a route forgot its onRequest: requireAdmin; fail closed.
    if (name === undefined) throw new EtlError('ETL_INTERNAL', 'an admin route was reached without its token check');
    return name;
  };
  return { requireAdmin, adminName };
}

/** Both servers: the probes and metrics always, the dashboard and the API given what they call (`deps`). */
function buildHttp(app: ServerContext, deps: HttpDeps | null): FastifyInstance {
  const server = Fastify({ logger: false });
  registerHostCheck(server, app.config.http.allowedHosts);
  registerSecurityHeaders(server);
  const admin = createAdminCheck(app);

  // One shape for every error: { error, code, statusCode }, from our code, Fastify's own checks and unknown routes alike.
  server.setErrorHandler(async (err, _req, reply) => {
    if (isEtlError(err)) return sendError(reply, err);
    const status = (err as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) {
      app.logger.error({ error: coerceError(err).message }, 'request failed');
      return sendError(reply, new EtlError('ETL_INTERNAL', 'internal error'));
    }
    // Fastify's own: a body too large or not JSON, a parameter or query its schema refuses.
    return sendError(reply, new EtlError('ETL_HTTP_INVALID_REQUEST', coerceError(err).message), status);
  });
  // Before any route: each is completed for the document as it is added (the docs themselves only on serve's).
  registerOpenApi(server, admin.requireAdmin, { docs: deps !== null });

  server.setNotFoundHandler(async (req, reply) =>
    sendError(
      reply,
      new EtlError('ETL_HTTP_NOT_FOUND', `no route ${req.method} ${(req.url.split('?')[0] ?? '').slice(0, 100)}`),
    ),
  );

  // The routes, in a plugin: it loads after @fastify/swagger, whose onRoute hook then sees each one.
  void server.register(async (routes) => {
    registerProbes(routes, app);
    if (deps === null) return;
    registerDashboard(routes);
    registerReadRoutes(routes, app, admin);
    registerHistoryRoute(routes, app.store, admin.requireAdmin);
    registerAdminRoutes(routes, app, deps, admin);
    registerConsoleRoutes(routes, app, deps, admin);
    if (app.queue) registerQueuesBoard(routes, app.queue, admin.requireAdmin);
  });
  return server;
}

/** /livez, /readyz and /metrics: a worker's routes, and serve's too. */
function registerProbes(routes: FastifyInstance, app: ServerContext): void {
  routes.get('/livez', { schema: { summary: 'The process is up', response: { 200: LIVE } } }, async () => ({
    status: 'ok',
  }));

  const metrics = createMetrics(app, VERSION);
  routes.get(
    '/metrics',
    { schema: { summary: 'Prometheus metrics', response: { 200: PROMETHEUS } } },
    async (_req, reply) => reply.type(metrics.contentType).send(await metrics.render()),
  );

  const readyzSchema = { summary: 'The database (and Redis) answer', response: { 200: READY, 503: READY } };
  routes.get('/readyz', { schema: readyzSchema }, async (_req, reply) => {
    const checks: Record<string, string> = {};
    try {
      await app.store.listRuns({ limit: 1 });
      checks.database = 'ok';
    } catch (err) {
      // Coded, as the CLI says it: ETL_DB_UNAVAILABLE with where and why.
      const failure = describeFailure(err, storeFailureKind);
      checks.database = `${failure.code}: ${failure.reason}`;
    }
    if (app.redis) {
      // A command to a Redis that is down waits for it to return: its state is the answer then.
      if (app.redis.status !== 'ready')
        checks.redis =
          app.redis.status === 'reconnecting'
            ? 'unavailable (reconnecting)'
            : `unavailable (connection ${app.redis.status}; reconnecting)`;
      else
        try {
          await withTimeout(app.redis.ping(), READY_PING_MS, 'no answer to PING');
          checks.redis = 'ok';
        } catch (err) {
          checks.redis = coerceError(err).message;
        }
    }
    const ok = Object.values(checks).every((v) => v === 'ok');
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready', checks });
  });
}

/** The API's reads, open to anyone who may reach the server (counts, codes and names, no personal data). */
function registerReadRoutes(routes: FastifyInstance, app: ServerContext, admin: AdminCheck): void {
  const schoolQuery = {
    type: 'object',
    properties: {
      limit: { type: 'integer', minimum: 1, maximum: 1000 },
      school: { type: 'string', pattern: '^[A-Za-z0-9]+$' },
    },
    additionalProperties: false,
  } as const;

  const healthSchema = { summary: 'Health over the last ten runs', response: { 200: ref('Health') } };
  routes.get('/api/cases-etl/health', { schema: healthSchema }, async () =>
    assessHealth(await app.store.listRuns({ limit: 10 })),
  );

  routes.get(
    '/api/cases-etl/metrics',
    { schema: { summary: 'The last ten runs and their averages', response: { 200: RECENT } } },
    async () => {
      const recent = await app.store.listRuns({ limit: 10 });
      return { recent, average: summariseRuns(recent) };
    },
  );

  routes.get<{ Querystring: { limit?: number; school?: string } }>(
    '/api/cases-etl/runs',
    {
      schema: {
        summary: 'Recent runs, newest first',
        querystring: schoolQuery,
        response: { 200: listOf('RunRecord') },
      },
    },
    async (req) => app.store.listRuns({ limit: req.query.limit ?? 50, school: req.query.school ?? null }),
  );

  const originalQuery = {
    type: 'object',
    properties: { original: { type: 'integer', enum: [0, 1] } },
    additionalProperties: false,
  } as const;

  routes.get<{ Params: { id: string }; Querystring: { original?: 0 | 1 } }>(
    '/api/cases-etl/runs/:id',
    {
      schema: {
        summary: 'A run with its files and first 100 rejects (original lines: admin, ?original=1)',
        params: RUN_ID,
        querystring: originalQuery,
        // Open, but `?original=1` needs the admin token.
        security: [{}, { [ADMIN_SCHEME]: [] }],
        response: { 200: RUN_DETAIL },
      },
      // Original lines are personal data: only an admin who asks (?original=1) gets them, checked before anything else.
      onRequest: async (req, reply) => {
        if ((req.query as { original?: unknown }).original === '1') await admin.requireAdmin(req, reply);
      },
    },
    async (req, reply) => {
      const originals = req.query.original === 1;
      const id = runIdOf(req.params.id);
      const run = await app.store.getRun(id);
      if (!run) throw new EtlError('ETL_RUN_UNKNOWN', `there is no run ${id}`);
      const [files, rejects] = await Promise.all([
        app.store.listRunFiles(run.id),
        app.store.listRejects(run.id, 100, { originals }),
      ]);
      // Never cached: with originals the answer holds personal data, and without them it changes as the run ends.
      if (originals) void reply.header('cache-control', 'no-store');
      return { run, files, rejects };
    },
  );

  routes.get<{ Querystring: { limit?: number; school?: string } }>(
    '/api/cases-etl/rollbacks',
    {
      schema: {
        summary: 'Recent rollbacks, newest first',
        querystring: schoolQuery,
        response: { 200: listOf('RollbackRecord') },
      },
    },
    async (req) => app.store.listRollbacks({ limit: req.query.limit ?? 50, school: req.query.school ?? null }),
  );

  const schoolsSchema = { summary: "Every school's ledger in figures", response: { 200: listOf('SchoolSummary') } };
  routes.get('/api/cases-etl/schools', { schema: schoolsSchema }, async () => app.store.schoolSummaries());
}

/** The routes that change data, each behind the admin token. */
function registerAdminRoutes(routes: FastifyInstance, app: ServerContext, deps: HttpDeps, admin: AdminCheck): void {
  routes.post<{ Params: { id: string }; Body: { cascade?: boolean; dryRun?: boolean; reason?: string } | undefined }>(
    '/api/cases-etl/runs/:id/rollback',
    {
      onRequest: admin.requireAdmin,
      schema: {
        summary: 'Roll a run back (or, dryRun, say what that would do)',
        params: RUN_ID,
        response: { 200: ref('RollbackResult') },
        body: {
          type: ['object', 'null'],
          properties: {
            cascade: { type: 'boolean' },
            dryRun: { type: 'boolean' },
            reason: { type: 'string', maxLength: 500 },
          },
          additionalProperties: false,
        },
      },
    },
    async (req) => {
      const who = admin.adminName(req);
      const result = await rollbackRun(runIdOf(req.params.id), {
        config: app.config,
        store: app.store,
        notifier: app.notifier,
        cascade: req.body?.cascade ?? false,
        dryRun: req.body?.dryRun ?? false,
        requestedBy: `api:${who}`,
        ...(req.body?.reason ? { reason: req.body.reason } : {}),
      });
      app.logger.info(
        {
          runId: result.runId,
          school: result.school,
          rollbackId: result.rollbackId,
          dryRun: result.dryRun,
          by: `api:${who}`,
        },
        'rollback over HTTP',
      );
      return result;
    },
  );

  routes.post<{ Body: { school?: string; force?: boolean } | undefined }>(
    '/api/cases-etl/trigger',
    {
      onRequest: admin.requireAdmin,
      schema: {
        summary: 'Queue a run (or start it here, without Redis)',
        response: { 202: TRIGGERED },
        body: {
          type: ['object', 'null'],
          properties: { school: { type: 'string', pattern: '^[A-Za-z0-9]+$' }, force: { type: 'boolean' } },
          additionalProperties: false,
        },
      },
    },
    async (req, reply) => {
      const who = admin.adminName(req);
      const school = req.body?.school ?? app.config.schoolId;
      if (!school && !app.queue) throw new EtlError('ETL_USAGE', 'name the school to run ({"school": "8865"})');
      const result = await deps.trigger({
        school: school ?? null,
        force: req.body?.force ?? false,
        requestedBy: `api:${who}`,
      });
      return reply.code(202).send(result);
    },
  );
}
