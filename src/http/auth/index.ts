import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import type { AuthMode, Config } from '../../config/index.js';
import { coerceError, EtlError, isEtlError } from '../../errors/index.js';
import { assertCsrf } from './csrf.js';
import { createJwtVerifier, type JwtVerifier } from './jwt.js';
import { createOidcClient, roleOf, userNameOf, type OidcClient } from './oidc.js';
import { createSealer, readCookie, SESSION_COOKIE, type Sealer } from './session.js';
import { bearerOf, matchToken, type Role } from './tokens.js';

/**
 * Who is asking, and what they may do. One object, built once per server from the config, that
 * route registrars are handed: onRequest hooks (requireViewer, requireAdmin) and what a handler
 * asks of a request that passed one (who, isAdmin). How a request proves itself:
 * - a bearer token from ETL_ADMIN_TOKENS (admin) or ETL_VIEWER_TOKENS (viewer), in every mode;
 * - with ETL_AUTH=oidc, a bearer JWT from the issuer (jwt.ts), the role from the user's groups or
 *   roles (oidc.ts);
 * - the sign-in cookie (session.ts), set by the issuer's sign-in or by a token sent to
 *   POST /api/cases-etl/session. Cookie requests that change data carry the session's CSRF
 *   token (csrf.ts).
 */

export { CSRF_HEADER } from './csrf.js';
export { registerAuthRoutes } from './routes.js';
export type { Role } from './tokens.js';

/** Who a request is. */
export interface Identity {
  /** The name the ledger records: `api:<token name>` or `oidc:<user name>`. Never a token. */
  readonly name: string;
  readonly role: Role;
  /** How it was proved: a configured token, an issuer's JWT, or the sign-in cookie. */
  readonly via: 'token' | 'jwt' | 'cookie';
  /** The session's CSRF token (cookie only). */
  readonly csrfToken: string | null;
}

/** What the sign-in cookie holds (sealed, so the browser can neither read nor forge it). */
export interface Session {
  readonly sub: string;
  readonly name: string;
  readonly role: Role;
  readonly csrf: string;
}

export interface AccessCheck {
  /** ETL_AUTH: with `token` or `oidc`, every route but the probes and sign-in needs requireViewer. */
  readonly mode: AuthMode;
  /** An onRequest hook: any identity (401 without; under oidc a browser's page request is sent to sign in). */
  requireViewer(req: FastifyRequest, reply: FastifyReply): Promise<unknown>;
  /**
   * An onRequest hook: the admin role. 401 with no identity, 403 for a viewer (403 too under
   * ETL_AUTH=none with no admin tokens configured). It runs before the body is read, so a client
   * without a token cannot make the server take in and parse a body at all.
   */
  requireAdmin(req: FastifyRequest, reply: FastifyReply): Promise<void>;
  /** The name requireViewer or requireAdmin accepted for `req`, for the ledger (`api:ops`, `oidc:jo@school`). */
  who(req: FastifyRequest): string;
  /** who() without `api:`: a token's bare name (kept for routes written before roles; prefer who). */
  adminName(req: FastifyRequest): string;
  /** Whether `req` proved the admin role; false for anyone else, or when nothing was proved (reads under `none`). */
  isAdmin(req: FastifyRequest): boolean;
  /** Who `req` is, or null; an error when what it sent was refused (resolved once per request). */
  identify(req: FastifyRequest): Promise<Identity | null>;
  /** The issuer (ETL_AUTH=oidc only). */
  readonly oidc: OidcClient | null;
  /** Seals and opens the sign-in cookies. */
  readonly sealer: Sealer;
}

export interface AccessOptions {
  /** After fetching the issuer's keys, how long (ms) before an unknown key id fetches them again; default 30 s. */
  readonly jwksCooldownMs?: number;
}

type Resolved = { readonly identity: Identity | null } | { readonly error: EtlError };

/** Routes open with sign-in on: the probes, and what signs in and out. */
export const OPEN_ROUTES: ReadonlySet<string> = new Set([
  '/livez',
  '/readyz',
  '/metrics',
  '/favicon.ico',
  '/auth/login',
  '/auth/callback',
  '/auth/logout',
  '/api/cases-etl/session',
]);

/** A JWT has three dot-separated base64url parts; anything else is not worth asking the issuer's keys about. */
const looksLikeJwt = (token: string): boolean => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token);

export function createAccess(config: Config, options: AccessOptions = {}): AccessCheck {
  const { auth, adminTokens } = config.http;
  const oidc = auth.mode === 'oidc' && auth.oidc !== null ? createOidcClient(auth.oidc) : null;
  const oidcConfig = auth.oidc;
  let jwt: JwtVerifier | null = null;
  const verifyJwt = async (token: string): Promise<Identity> => {
    if (oidc === null || oidcConfig === null) throw new EtlError('ETL_INTERNAL', 'no issuer');
    jwt ??= createJwtVerifier({
      issuer: await oidc.issuer(),
      audience: oidcConfig.audience,
      jwksUri: () => oidc.jwksUri(),
      ...(options.jwksCooldownMs === undefined ? {} : { cooldownMs: options.jwksCooldownMs }),
    });
    const claims = await jwt(token);
    return { name: userNameOf(claims), role: roleOf(claims, oidcConfig), via: 'jwt', csrfToken: null };
  };
  const sealer = createSealer(auth.sessionSecret);

  const resolve = async (req: FastifyRequest): Promise<Resolved> => {
    const bearer = bearerOf(req.headers.authorization);
    if (bearer !== null) {
      const token = matchToken(bearer, adminTokens, auth.viewerTokens);
      if (token) return { identity: { name: `api:${token.name}`, role: token.role, via: 'token', csrfToken: null } };
      if (oidc !== null && looksLikeJwt(bearer))
        return verifyJwt(bearer).then(
          (identity) => ({ identity }),
          (err: unknown) => ({ error: isEtlError(err) ? err : new EtlError('ETL_INTERNAL', coerceError(err).message) }),
        );
      return { error: new EtlError('ETL_HTTP_UNAUTHORIZED', 'a valid bearer token is required') };
    }
    // The sign-in cookie: from the issuer (oidc), or a token turned into one (POST /api/cases-etl/session).
    const sealed = readCookie(req, SESSION_COOKIE);
    const session = sealed === null ? null : sealer.open<Session>(sealed);
    if (session !== null)
      return { identity: { name: session.name, role: session.role, via: 'cookie', csrfToken: session.csrf } };
    return { identity: null };
  };

  // Resolved once per request, however many hooks ask; the settled identity for who() and isAdmin().
  const pending = new WeakMap<FastifyRequest, Promise<Resolved>>();
  const settled = new WeakMap<FastifyRequest, Identity>();
  const resolved = async (req: FastifyRequest): Promise<Resolved> => {
    let p = pending.get(req);
    if (p === undefined) {
      p = resolve(req);
      pending.set(req, p);
    }
    const r = await p;
    if ('identity' in r && r.identity !== null) settled.set(req, r.identity);
    return r;
  };

  const unauthorized = (): EtlError =>
    new EtlError(
      'ETL_HTTP_UNAUTHORIZED',
      oidc !== null ? 'sign in (/auth/login) or send a bearer token' : 'a valid bearer token is required',
    );

  const requireViewer = async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    if (auth.mode === 'none') return undefined;
    const r = await resolved(req);
    if ('error' in r) throw r.error;
    if (r.identity === null) {
      // A person opening a page (the dashboard, /docs) is sent to sign in and brought back; scripts get 401.
      const page = req.method === 'GET' && !req.url.startsWith('/api/');
      if (oidc !== null && page && String(req.headers.accept ?? '').includes('text/html'))
        return reply.redirect(`/auth/login?return=${encodeURIComponent(req.url)}`);
      throw unauthorized();
    }
    if (r.identity.csrfToken !== null) assertCsrf(req, r.identity.csrfToken);
    return undefined;
  };

  const requireAdmin = async (req: FastifyRequest): Promise<void> => {
    if (auth.mode === 'none' && adminTokens.length === 0)
      throw new EtlError('ETL_HTTP_FORBIDDEN', 'no admin tokens are configured (ETL_ADMIN_TOKENS)');
    const r = await resolved(req);
    if ('error' in r) throw r.error;
    if (r.identity === null) throw unauthorized();
    if (r.identity.csrfToken !== null) assertCsrf(req, r.identity.csrfToken);
    if (r.identity.role !== 'admin')
      throw new EtlError('ETL_AUTH_FORBIDDEN', `${r.identity.name} is a viewer: this needs the admin role`);
  };

  const who = (req: FastifyRequest): string => {
    const identity = settled.get(req);
    // Only reachable if a route forgot its onRequest: requireAdmin; fail closed.
    if (identity === undefined) throw new EtlError('ETL_INTERNAL', 'a route was reached without its access check');
    return identity.name;
  };

  return {
    mode: auth.mode,
    requireViewer,
    requireAdmin,
    who,
    adminName: (req) => who(req).replace(/^api:/, ''),
    isAdmin: (req) => settled.get(req)?.role === 'admin',
    identify: async (req) => {
      const r = await resolved(req);
      if ('error' in r) throw r.error;
      return r.identity;
    },
    oidc,
    sealer,
  };
}

/**
 * With sign-in on (ETL_AUTH token or oidc), one hook asks every route for a viewer at least, so a
 * route added anywhere is covered without a word of its own; open are the probes, sign-in and
 * sign-out, and, with tokens only, the dashboard's files (they hold no data, and the page is where
 * a token is typed in). Under `none` the identity is still read, for isAdmin on open reads.
 */
export function registerAccess(server: FastifyInstance, access: AccessCheck): void {
  server.addHook('onRequest', async (req, reply) => {
    const route = req.routeOptions.url ?? '';
    if (access.mode === 'none') {
      // A token that is refused here is refused again by requireAdmin, where it matters.
      await access.identify(req).catch(() => null);
      return undefined;
    }
    if (OPEN_ROUTES.has(route)) return undefined;
    const file = (req.routeOptions.schema as { hide?: boolean } | undefined)?.hide === true;
    if (access.mode === 'token' && file) return undefined;
    return access.requireViewer(req, reply);
  });
}
