import type { FastifyInstance } from 'fastify';

import { EtlError } from '../errors/index.js';
import { hostNameOf } from '../util/index.js';

/**
 * The content security policy of every HTML page: its own scripts, styles and images, requests
 * only to this server, and no framing (the dashboard's rollback button must not be clickjacked).
 */
export const HTML_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * Refuses requests whose Host header names a host not in `allowedHosts` (null allows any), with
 * ETL_HTTP_HOST_REFUSED. Checked first, before routing, tokens or bodies: a browser tricked by DNS
 * rebinding sends the attacker's name, and no answer of ours should reach that page.
 */
export function registerHostCheck(server: FastifyInstance, allowedHosts: readonly string[] | null): void {
  if (allowedHosts === null) return;
  const allowed = new Set(allowedHosts);
  server.addHook('onRequest', async (req) => {
    const given = req.headers.host ?? '';
    const name = hostNameOf(given);
    if (name !== null && allowed.has(name)) return;
    const shown = JSON.stringify(given.slice(0, 100));
    throw new EtlError(
      'ETL_HTTP_HOST_REFUSED',
      `this server does not answer for the host ${shown}; add it to ETL_ALLOWED_HOSTS if it is yours`,
    );
  });
}

/**
 * Headers on every response, errors and 404s included: no content sniffing, no Referer (URLs
 * carry run ids and school numbers), the CSP on HTML, and no caching of API answers, which carry
 * keys and file names that a shared cache or the browser's disk should not keep.
 */
export function registerSecurityHeaders(server: FastifyInstance): void {
  server.addHook('onSend', async (req, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    if (String(reply.getHeader('content-type') ?? '').startsWith('text/html'))
      reply.header('content-security-policy', HTML_CSP);
    if (req.url.startsWith('/api/')) reply.header('cache-control', 'no-store');
    return payload;
  });
}
