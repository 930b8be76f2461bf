import { readFileSync } from 'node:fs';

import type { FastifyInstance } from 'fastify';

/**
 * The dashboard: one page (web/dashboard.html) and its script and style, drawn in the browser
 * from the JSON API. No build step, nothing from a CDN, and a content security policy that
 * lets the page load only its own files and talk only to this server (HTML_CSP, set on every HTML
 * response with the other security headers in security.ts).
 */

const WEB = new URL('../../web/', import.meta.url);
const ASSETS = {
  '/dashboard': { file: 'dashboard.html', type: 'text/html; charset=utf-8' },
  '/dashboard/app.js': { file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard/api.js': { file: 'api.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard/charts.js': { file: 'charts.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard/format.js': { file: 'format.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
} as const;

/** Files, not API: left out of the OpenAPI document. */
const STATIC = { schema: { hide: true } };

/** Serves the dashboard's page, script and style, and sends `/` to the page. */
export function registerDashboard(server: FastifyInstance): void {
  for (const [path, asset] of Object.entries(ASSETS)) {
    // Read once, at start: the files ship with the package and do not change while it runs.
    const body = readFileSync(new URL(asset.file, WEB), 'utf8');
    server.get(path, STATIC, async (_req, reply) =>
      reply.header('cache-control', 'no-cache').type(asset.type).send(body),
    );
  }
  server.get('/', STATIC, async (_req, reply) => reply.redirect('/dashboard'));
  // Browsers ask for it on every page; there is none.
  server.get('/favicon.ico', STATIC, async (_req, reply) => reply.code(204).send());
}
