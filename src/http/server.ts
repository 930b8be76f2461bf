import { timingSafeEqual } from 'node:crypto';

import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';

import type { App } from '../app.js';
import { EtlError, isEtlError } from '../errors/index.js';
import { createMetrics } from '../observability/metrics.js';
import { rollbackRun } from '../pipeline/index.js';
import { VERSION } from '../version.js';
import { registerDashboard } from './dashboard.js';
import { assessHealth, summariseRuns } from './health.js';

/** What the HTTP layer can ask of the rest: queue a run (or run it, without Redis). */
export interface HttpDeps {
  trigger(input: { school: string | null; force: boolean; requestedBy: string }): Promise<{ jobId: string | null; created: boolean; mode: 'queue' | 'direct' }>;
}

const STATUS_FOR: Partial<Record<string, number>> = {
  ETL_USAGE: 400,
  ETL_CONFIG_INVALID: 400,
  ETL_ROLLBACK_UNKNOWN_RUN: 404,
  ETL_ROLLBACK_NOT_PUBLISHED: 409,
  ETL_ROLLBACK_ALREADY: 409,
  ETL_ROLLBACK_BLOCKED: 409,
  ETL_ROLLBACK_PRUNED: 409,
  ETL_RUN_LOCKED: 409,
  ETL_DB_UNAVAILABLE: 503,
};

function tokenMatches(given: string, wanted: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(wanted);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The HTTP API, built apart from listen() so tests use inject(). Health and metrics are open (they
 * carry counts, never personal data); triggering needs a bearer token from ETL_ADMIN_TOKENS.
 */
export function buildServer(app: App, deps: HttpDeps): FastifyInstance {
  const server = Fastify({ logger: false });

  const admin = async (req: FastifyRequest, reply: FastifyReply): Promise<string | null> => {
    const header = req.headers.authorization ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7) : '';
    const match = app.config.http.adminTokens.find((t) => given !== '' && tokenMatches(given, t.token));
    if (match) return match.name;
    await reply.code(app.config.http.adminTokens.length === 0 ? 403 : 401).send({
      error: app.config.http.adminTokens.length === 0 ? 'no admin tokens are configured (ETL_ADMIN_TOKENS)' : 'a valid bearer token is required',
    });
    return null;
  };

  server.setErrorHandler(async (err, _req, reply) => {
    if (isEtlError(err)) return reply.code(STATUS_FOR[err.code] ?? 500).send({ error: err.message, code: err.code });
    const status = (err as { statusCode?: number }).statusCode ?? 500;
    if (status >= 500) app.logger.error({ error: (err as Error).message }, 'request failed');
    return reply.code(status).send({ error: status >= 500 ? 'internal error' : (err as Error).message });
  });

  const runId = { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'] } as const;
  const schoolQuery = { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 1000 }, school: { type: 'string', pattern: '^[A-Za-z0-9]+$' } }, additionalProperties: false } as const;

  server.get('/livez', async () => ({ status: 'ok' }));
  registerDashboard(server);

  const metrics = createMetrics(app, VERSION);
  server.get('/metrics', async (_req, reply) => reply.type(metrics.contentType).send(await metrics.render()));

  server.get('/readyz', async (_req, reply) => {
    const checks: Record<string, string> = {};
    try {
      await app.store.listRuns({ limit: 1 });
      checks.database = 'ok';
    } catch (err) {
      checks.database = (err as Error).message;
    }
    if (app.redis) {
      try {
        await app.redis.ping();
        checks.redis = 'ok';
      } catch (err) {
        checks.redis = (err as Error).message;
      }
    }
    const ok = Object.values(checks).every((v) => v === 'ok');
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready', checks });
  });

  server.get('/api/cases-etl/health', async () => assessHealth(await app.store.listRuns({ limit: 10 })));

  server.get('/api/cases-etl/metrics', async () => {
    const recent = await app.store.listRuns({ limit: 10 });
    return { recent, average: summariseRuns(recent) };
  });

  server.get<{ Querystring: { limit?: number; school?: string } }>(
    '/api/cases-etl/runs',
    { schema: { querystring: schoolQuery } },
    async (req) => app.store.listRuns({ limit: req.query.limit ?? 50, school: req.query.school ?? null }),
  );


  const originalQuery = { type: 'object', properties: { original: { type: 'integer', enum: [0, 1] } }, additionalProperties: false } as const;

  server.get<{ Params: { id: number }; Querystring: { original?: 0 | 1 } }>(
    '/api/cases-etl/runs/:id',
    { schema: { params: runId, querystring: originalQuery } },
    async (req, reply) => {
      // Rejects say where and why; their original lines are personal data, for an admin who asks (?original=1).
      const originals = req.query.original === 1;
      if (originals && (await admin(req, reply)) === null) return reply;
      const run = await app.store.getRun(req.params.id);
      if (!run) throw new EtlError('ETL_ROLLBACK_UNKNOWN_RUN', `there is no run ${req.params.id}`);
      const [files, rejects] = await Promise.all([app.store.listRunFiles(run.id), app.store.listRejects(run.id, 100, { originals })]);
      // Never cached: with originals the answer holds personal data, and without them it changes as the run ends.
      if (originals) void reply.header('cache-control', 'no-store');
      return { run, files, rejects };
    },
  );

  server.get<{ Querystring: { limit?: number; school?: string } }>('/api/cases-etl/rollbacks', { schema: { querystring: schoolQuery } }, async (req) =>
    app.store.listRollbacks({ limit: req.query.limit ?? 50, school: req.query.school ?? null }),
  );

  server.get('/api/cases-etl/schools', async () => app.store.schoolSummaries());

  server.post<{ Params: { id: number }; Body: { cascade?: boolean; dryRun?: boolean; reason?: string } | undefined }>(
    '/api/cases-etl/runs/:id/rollback',
    {
      schema: {
        params: runId,
        body: { type: ['object', 'null'], properties: { cascade: { type: 'boolean' }, dryRun: { type: 'boolean' }, reason: { type: 'string', maxLength: 500 } }, additionalProperties: false },
      },
    },
    async (req, reply) => {
      const who = await admin(req, reply);
      if (who === null) return reply;
      const result = await rollbackRun(req.params.id, {
        config: app.config,
        store: app.store,
        notifier: app.notifier,
        cascade: req.body?.cascade ?? false,
        dryRun: req.body?.dryRun ?? false,
        requestedBy: `api:${who}`,
        ...(req.body?.reason ? { reason: req.body.reason } : {}),
      });
      app.logger.info({ runId: result.runId, school: result.school, rollbackId: result.rollbackId, dryRun: result.dryRun, by: `api:${who}` }, 'rollback over HTTP');
      return result;
    },
  );

  server.post<{ Body: { school?: string; force?: boolean } | undefined }>(
    '/api/cases-etl/trigger',
    { schema: { body: { type: ['object', 'null'], properties: { school: { type: 'string', pattern: '^[A-Za-z0-9]+$' }, force: { type: 'boolean' } }, additionalProperties: false } } },
    async (req, reply) => {
      const who = await admin(req, reply);
      if (who === null) return reply;
      const school = req.body?.school ?? app.config.schoolId;
      if (!school && !app.queue) throw new EtlError('ETL_USAGE', 'name the school to run ({"school": "8865"})');
      const result = await deps.trigger({ school: school ?? null, force: req.body?.force ?? false, requestedBy: `api:${who}` });
      return reply.code(202).send(result);
    },
  );

  return server;
}
