import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import type { Config } from '../../config/index.js';
import type { Logger } from '../../observability/index.js';
import { EtlError } from '../../errors/index.js';
import { SESSION } from '../schemas.js';
import { newCsrfToken } from './csrf.js';
import type { AccessCheck, Session } from './index.js';
import type { PendingSignIn } from './oidc.js';
import { readCookie, SESSION_COOKIE, SESSION_SECONDS, setCookie, SIGN_IN_COOKIE, SIGN_IN_SECONDS } from './session.js';

/** Pages, not API: a browser is sent through them; left out of the OpenAPI document as the dashboard's files are. */
const PAGE = (summary: string) => ({ schema: { hide: true, summary } }) as const;

/** Where a sign-in returns to: a path on this server only (never `//elsewhere`), else the dashboard. */
function returnPathOf(raw: unknown): string {
  return typeof raw === 'string' && /^\/(?![/\\])/.test(raw) && raw.length <= 500 ? raw : '/dashboard';
}

/**
 * GET /api/cases-etl/session (always), and with ETL_AUTH=oidc the sign-in pages: /auth/login
 * (to the issuer, with PKCE, state and nonce in a sealed short-lived cookie), /auth/callback
 * (the code exchanged, the ID token checked, the session cookie set) and /auth/logout.
 */
export function registerAuthRoutes(routes: FastifyInstance, config: Config, access: AccessCheck, logger: Logger): void {
  const { publicUrl } = config.http;
  /**
   * This server's address as the browser uses it: ETL_PUBLIC_URL, else the request's own (its Host
   * was checked), as an origin (`http://localhost`, never `:80`): the redirect URI sent at login
   * and the one the callback is checked against must be the same text.
   */
  const baseOf = (req: FastifyRequest): string =>
    (publicUrl ?? new URL(`${req.protocol}://${req.host}`).origin).replace(/\/+$/, '');
  const secureOf = (req: FastifyRequest): boolean => baseOf(req).startsWith('https:');

  routes.get(
    '/api/cases-etl/session',
    { schema: { summary: 'Who is signed in, their role, and the CSRF token for POSTs', response: { 200: SESSION } } },
    async (req) => {
      const identity = await access.identify(req).catch(() => null);
      const oidc = access.mode === 'oidc';
      return {
        auth: access.mode,
        signedIn: identity !== null,
        name: identity?.name ?? null,
        role: identity?.role ?? null,
        csrfToken: identity?.csrfToken ?? null,
        signInUrl: oidc && identity === null ? '/auth/login' : null,
        signOutUrl: oidc && identity?.via === 'cookie' ? '/auth/logout' : null,
      };
    },
  );

  /**
   * A bearer token, turned into the sign-in cookie for this browser: pages a browser opens by
   * itself (Bull Board at /admin/queues) cannot send a header, so an admin who typed a token into
   * the dashboard could not open them. The cookie says the same as the token (its name and role,
   * sealed, 8 hours) and, like every cookie session, needs the CSRF token on POSTs.
   */
  routes.post(
    '/api/cases-etl/session',
    {
      schema: {
        summary: 'Sign this browser in with the bearer token it sends (a cookie, for pages that cannot send a header)',
        response: { 200: SESSION },
      },
    },
    async (req, reply) => {
      const identity = await access.identify(req);
      if (identity === null || identity.via !== 'token')
        throw new EtlError(
          'ETL_HTTP_UNAUTHORIZED',
          'send a token from ETL_ADMIN_TOKENS or ETL_VIEWER_TOKENS as a bearer header',
        );
      const session: Session = { sub: identity.name, name: identity.name, role: identity.role, csrf: newCsrfToken() };
      setCookie(reply, SESSION_COOKIE, access.sealer.seal(session, SESSION_SECONDS), {
        maxAge: SESSION_SECONDS,
        secure: secureOf(req),
        path: '/',
      });
      return {
        auth: access.mode,
        signedIn: true,
        name: identity.name,
        role: identity.role,
        csrfToken: session.csrf,
        signInUrl: null,
        // DELETE /api/cases-etl/session forgets it; /auth/logout is the issuer's sign-in's page.
        signOutUrl: null,
      };
    },
  );

  routes.delete(
    '/api/cases-etl/session',
    { schema: { summary: "Forget this browser's sign-in cookie", response: { 204: { type: 'null' } } } },
    async (req, reply) => {
      setCookie(reply, SESSION_COOKIE, '', { maxAge: 0, secure: secureOf(req), path: '/' });
      return reply.code(204).send();
    },
  );

  const oidc = access.oidc;
  if (oidc === null) return;

  routes.get<{ Querystring: { return?: string } }>('/auth/login', PAGE('Sign in at the issuer'), async (req, reply) => {
    const back = returnPathOf(req.query.return);
    const { url, pending } = await oidc.startSignIn(`${baseOf(req)}/auth/callback`);
    const sealed = access.sealer.seal({ ...pending, back }, SIGN_IN_SECONDS);
    setCookie(reply, SIGN_IN_COOKIE, sealed, { maxAge: SIGN_IN_SECONDS, secure: secureOf(req), path: '/auth' });
    return reply.redirect(url.href);
  });

  routes.get('/auth/callback', PAGE('The issuer sends the browser back here'), async (req, reply) => {
    const sealed = readCookie(req, SIGN_IN_COOKIE);
    const pending = sealed === null ? null : access.sealer.open<PendingSignIn & { back: string }>(sealed);
    if (pending === null)
      throw new EtlError(
        'ETL_OIDC_SIGNIN_FAILED',
        'no sign-in is under way in this browser (or it took over 10 minutes): start again at /auth/login',
      );
    const user = await oidc.finishSignIn(new URL(req.url, `${baseOf(req)}/`), pending).catch((err: unknown) => {
      // Said once here, with why (state, nonce, the issuer's error); never a code or a token.
      logger.warn({ error: err instanceof Error ? err.message : String(err) }, 'sign-in failed');
      throw err;
    });
    // Who signed in, for the record: a staff user name and the role, never a token.
    logger.info({ user: user.name, role: user.role }, 'signed in');
    const session: Session = { ...user, csrf: newCsrfToken() };
    const secure = secureOf(req);
    setCookie(reply, SIGN_IN_COOKIE, '', { maxAge: 0, secure, path: '/auth' });
    setCookie(reply, SESSION_COOKIE, access.sealer.seal(session, SESSION_SECONDS), {
      maxAge: SESSION_SECONDS,
      secure,
      path: '/',
    });
    return reply.redirect(returnPathOf(pending.back));
  });

  routes.get('/auth/logout', PAGE('Sign out'), async (req, reply: FastifyReply) => {
    setCookie(reply, SESSION_COOKIE, '', { maxAge: 0, secure: secureOf(req), path: '/' });
    // The issuer's session is left alone: signing out of this server must not sign the user out of email.
    return reply.type('text/html; charset=utf-8').send(SIGNED_OUT);
  });
}

/** The page after sign-out: no script, no styles, under the same CSP as every page. */
const SIGNED_OUT =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Signed out · cases-etl</title></head>' +
  '<body><p>You are signed out of cases-etl.</p><p><a href="/auth/login">Sign in again</a></p></body></html>';
