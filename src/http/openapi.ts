import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';

import { VERSION } from '../version.js';
import { OPEN_ROUTES } from './auth/index.js';
import { HTML_CSP } from './security.js';
import { addSharedSchemas, ref } from './schemas.js';

/**
 * The API described: every route's Fastify schema, gathered by @fastify/swagger into an OpenAPI
 * 3.1 document at /openapi.json, and shown by swagger-ui at /docs. Swagger-ui's files come from
 * the package (nothing from a CDN: school servers often have no way out), under the dashboard's
 * CSP with one addition, DOCS_CSP.
 */

/** The security scheme of the admin routes (and, with sign-in on, of every route but the open ones): a bearer token. */
export const ADMIN_SCHEME = 'adminToken';

/**
 * Swagger-ui's stylesheet draws its icons (arrows, locks, the copy button) as `data:` SVG images;
 * everything else is the dashboard's policy, scripts and styles from this server only.
 */
export const DOCS_CSP = HTML_CSP.replace("img-src 'self'", "img-src 'self' data:");

/** Where a route's answers are described when the module that registers it does not say (history.ts). */
const ANSWERS_BY_URL: Readonly<Record<string, unknown>> = {
  '/api/cases-etl/history/:table/:key': ref('RowHistory'),
};

type AdminCheck = (req: FastifyRequest, reply: FastifyReply) => Promise<void>;

/**
 * Adds the shared schemas and completes each route's schema; with `docs`, serves the OpenAPI
 * document (/openapi.json) and swagger-ui (/docs). Call it before any route, so each one is seen (and completed by describeRoute) as it is added.
 */
export function registerOpenApi(
  server: FastifyInstance,
  requireAdmin: AdminCheck,
  options: { docs: boolean; signIn: boolean },
): void {
  addSharedSchemas(server);
  server.addHook('onRoute', (route) => describeRoute(route, requireAdmin, options.signIn));
  // A worker answers its probes by the same schemas, but serves no document: it has no API.
  if (options.docs) registerDocs(server);
}

/** @fastify/swagger, /openapi.json and swagger-ui at /docs. */
function registerDocs(server: FastifyInstance): void {
  void server.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'cases-etl',
        version: VERSION,
        description:
          'The HTTP API of cases-etl: health, runs, rejects, rollbacks and row history of the nightly CASES21 load. ' +
          'Every error answers `{ error, code, statusCode }`; the codes are in docs/errors.md.',
      },
      components: {
        securitySchemes: {
          [ADMIN_SCHEME]: {
            type: 'http',
            scheme: 'bearer',
            description:
              'Sent as `Bearer <token>`: a token from ETL_ADMIN_TOKENS (admin) or ETL_VIEWER_TOKENS (viewer), or with ' +
              'ETL_AUTH=oidc an access token from the issuer (or the sign-in cookie, with x-csrf-token on POSTs). ' +
              'With ETL_AUTH=none only the admin routes ask for one.',
          },
        },
      },
      tags: [
        { name: 'api', description: 'The JSON API the dashboard is drawn from.' },
        { name: 'admin', description: 'Changes data or shows personal data: a bearer token is required.' },
        { name: 'probes', description: 'Liveness, readiness and Prometheus metrics.' },
      ],
    },
    // Components named by their $id (`RunRecord`), not `def-0`.
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  void server.register(swaggerUi, {
    routePrefix: '/docs',
    theme: { title: 'cases-etl API' },
    staticCSP: DOCS_CSP,
    // BaseLayout: no top bar, whose Swagger logo is an SVG with an inline <style> (refused by the
    // CSP) and whose box would fetch a document from any address typed in.
    uiConfig: { layout: 'BaseLayout', deepLinking: false, defaultModelsExpandDepth: 0 },
  });
  // In a plugin, as the other routes are: added once @fastify/swagger has loaded, so it is in the document too.
  void server.register(async (routes) => {
    routes.get(
      '/openapi.json',
      {
        schema: {
          summary: 'This document (OpenAPI 3.1)',
          tags: ['api'],
          response: { 200: { type: 'object', description: 'The OpenAPI document', additionalProperties: true } },
        },
      },
      async () => server.swagger(),
    );
  });
}

/**
 * Completes a route's schema for the document: its tag, the bearer scheme on the routes that run
 * the admin check (taken from the route itself, so the document cannot say otherwise), and the
 * error shape for every 4xx and 5xx answer. Hidden routes (static files) are left alone.
 */
function describeRoute(route: RouteOptions, requireAdmin: AdminCheck, signIn: boolean): void {
  const schema = (route.schema ??= {}) as Record<string, unknown> & { response?: Record<string, unknown> };
  if (schema.hide === true) return;
  const hooks = [route.onRequest ?? []].flat();
  const admin = hooks.includes(requireAdmin);
  // With sign-in on, the access hook asks every route but the open ones (auth/index.ts) for a token.
  if (signIn && !OPEN_ROUTES.has(route.url)) schema.security = [{ [ADMIN_SCHEME]: [] }];
  else if (admin) schema.security ??= [{ [ADMIN_SCHEME]: [] }];
  schema.tags ??= [admin ? 'admin' : route.url.startsWith('/api/') ? 'api' : 'probes'];
  const response = (schema.response ??= {});
  const answer = ANSWERS_BY_URL[route.url];
  if (answer !== undefined && response[200] === undefined) response[200] = answer;
  response['4xx'] ??= ref('Error');
  response['5xx'] ??= ref('Error');
}
