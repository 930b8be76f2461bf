import { randomBytes, timingSafeEqual } from 'node:crypto';

import type { FastifyRequest } from 'fastify';

import { EtlError } from '../../errors/index.js';

/**
 * CSRF for requests signed in by cookie. SameSite=Lax already keeps the cookie off cross-site
 * POSTs; as well, a request that changes data must send the session's own random token in the
 * `x-csrf-token` header, which a page elsewhere cannot read (GET /api/cases-etl/session gives it
 * only to this origin's scripts) and a plain HTML form cannot set. Bearer tokens need none: a
 * browser never adds them by itself.
 */

/** The header the token travels in. */
export const CSRF_HEADER = 'x-csrf-token';

/** Methods that change nothing, and so need no token. */
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Bull Board's pages (queues-board.ts) change jobs with requests of their own, which cannot carry
 * the token. Under them, a request signed in by cookie is accepted when the browser says it comes
 * from this server: an `Origin` naming the host the request was sent to (already one of
 * ETL_ALLOWED_HOSTS). Browsers set Origin on every such request and a page elsewhere cannot.
 */
const ORIGIN_CHECKED = ['/admin/queues/'];

function fromThisServer(req: FastifyRequest): boolean {
  const origin = req.headers.origin;
  if (typeof origin !== 'string' || !ORIGIN_CHECKED.some((p) => req.url.startsWith(p))) return false;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/** A new session's token. */
export function newCsrfToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Throws ETL_AUTH_CSRF when `req` may change data and does not carry `token`. */
export function assertCsrf(req: FastifyRequest, token: string): void {
  if (SAFE.has(req.method) || fromThisServer(req)) return;
  const given = req.headers[CSRF_HEADER];
  const a = Buffer.from(typeof given === 'string' ? given : '');
  const b = Buffer.from(token);
  if (a.length === b.length && timingSafeEqual(a, b)) return;
  throw new EtlError(
    'ETL_AUTH_CSRF',
    `a request signed in by cookie must send the session's CSRF token in the ${CSRF_HEADER} header`,
  );
}
