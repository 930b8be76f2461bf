import type { Queue } from 'bullmq';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { Redis } from 'ioredis';

import type { Config } from '../config/index.js';
import { coerceError, behaviourOf, describeFailure, EtlError, isEtlError } from '../errors/index.js';
import type { Notifier } from '../notify/index.js';
import { assessHealth, type Logger, createMetrics, summariseRuns } from '../observability/index.js';
import { rollbackRun } from '../pipeline/index.js';
import { storeFailureKind, type Store } from '../store/index.js';
import { VERSION } from '../version.js';
import {
  createAccess,
  registerAccess,
  registerAuthRoutes,
  type AccessCheck,
  type AccessOptions,
} from './auth/index.js';
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

/** The access checks route registrars are handed (auth/index.ts); its old name, for registrars written before roles. */
export type { AccessCheck, AccessCheck as AdminCheck } from './auth/index.js';

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
 * The HTTP API, built apart from listen() so tests use inject(). Who may do what is auth/'s
 * (ETL_AUTH): the probes are always open; reads need a viewer once sign-in is on; triggering,
 * rolling back and personal data need an admin. Every request must name an allowed host
 * (ETL_ALLOWED_HOSTS), and every answer carries the security headers (security.ts). `options`
 * tunes the issuer's key fetching (tests ask for no cooldown).
 */
export function buildServer(app: ServerContext, deps: HttpDeps, options: AccessOptions = {}): FastifyInstance {
  return buildHttp(app, deps, options);
}

/**
 * A `worker`'s HTTP: /livez, /readyz and /metrics only, the very routes (host check, headers and
 * error shape included) `serve` answers. No dashboard and no API: the dashboard is drawn from the
 * API, and the API triggers and rolls back, which belong to serve; a worker then holds no admin
 * token and answers nothing that changes data.
 */
export function buildProbeServer(app: ServerContext): FastifyInstance {
  return buildHttp(app, null, {});
}

/** Both servers: the probes and metrics always, the dashboard and the API given what they call (`deps`). */
function buildHttp(app: ServerContext, deps: HttpDeps | null, options: AccessOptions): FastifyInstance {
  const server = Fastify({ logger: false });
  registerHostCheck(server, app.config.http.allowedHosts);
  registerSecurityHeaders(server);
  const admin = createAccess(app.config, options);
  // serve's routes only: a worker answers its probes, which are open in every mode.
  if (deps !== null) registerAccess(server, admin);

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
  registerOpenApi(server, admin.requireAdmin, { docs: deps !== null, signIn: deps !== null && admin.mode !== 'none' });

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
    registerAuthRoutes(routes, app.config, admin, app.logger);
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

/**
 * The API's reads: counts, codes and names, no personal data. Open under ETL_AUTH=none; with
 * sign-in on, the hook of registerAccess asks each for a viewer at least.
 */
function registerReadRoutes(routes: FastifyInstance, app: ServerContext, admin: AccessCheck): void {
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
      // With sign-in on, a reject's key (a student's or a family's id) is shown to admins only.
      const keys = admin.mode === 'none' || admin.isAdmin(req);
      return { run, files, rejects: keys ? rejects : rejects.map((r) => ({ ...r, key: null })) };
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

/** The routes that change data, each behind the admin role (requireAdmin). */
function registerAdminRoutes(routes: FastifyInstance, app: ServerContext, deps: HttpDeps, admin: AccessCheck): void {
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
      const who = admin.who(req);
      const result = await rollbackRun(runIdOf(req.params.id), {
        config: app.config,
        store: app.store,
        notifier: app.notifier,
        cascade: req.body?.cascade ?? false,
        dryRun: req.body?.dryRun ?? false,
        requestedBy: who,
        ...(req.body?.reason ? { reason: req.body.reason } : {}),
      });
      app.logger.info(
        {
          runId: result.runId,
          school: result.school,
          rollbackId: result.rollbackId,
          dryRun: result.dryRun,
          by: who,
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
      const who = admin.who(req);
      const school = req.body?.school ?? app.config.schoolId;
      if (!school && !app.queue) throw new EtlError('ETL_USAGE', 'name the school to run ({"school": "8865"})');
      const result = await deps.trigger({
        school: school ?? null,
        force: req.body?.force ?? false,
        requestedBy: who,
      });
      return reply.code(202).send(result);
    },
  );
}
