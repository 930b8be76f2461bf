import { createServer } from 'node:net';
import { PassThrough } from 'node:stream';

import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createApp, type App } from '../src/app/index.js';
import { buildServer, type HttpDeps } from '../src/http/index.js';
import { createLogger } from '../src/observability/logger.js';
import { startIssuer, type Issuer } from './helpers/oidc-issuer.js';
import { createTarget, type Target } from './helpers/targets.js';

/**
 * The sign-in pages under ETL_AUTH=oidc, step by step without a browser: the cookies they set,
 * where they send one, and how they refuse a callback that is not theirs or an issuer that is down.
 */

const CLIENT = 'cases-etl-flow-client';
const deps: HttpDeps = { trigger: async () => ({ jobId: null, created: true, mode: 'direct' }) };

/** `name=value` of each Set-Cookie header of an answer, and the headers whole. */
function cookiesOf(headers: Record<string, unknown>): { pairs: Record<string, string>; raw: string[] } {
  const raw = [headers['set-cookie'] ?? []].flat().map(String);
  const pairs = Object.fromEntries(raw.map((c) => (c.split(';')[0] ?? '').split(/=(.*)/s).slice(0, 2)));
  return { pairs, raw };
}

describe('the sign-in pages (ETL_AUTH=oidc)', () => {
  let issuer: Issuer;
  let target: Target;
  /** Every server's log, as JSON lines. */
  let log = '';
  const apps: App[] = [];
  const servers: FastifyInstance[] = [];

  beforeAll(async () => {
    issuer = await startIssuer({
      clientId: CLIENT,
      users: { jo: { sub: 'sub-jo', preferred_username: 'jo', roles: ['Etl.Admin'] } },
    });
    target = await createTarget('sqlite');
  });

  afterAll(async () => {
    for (const s of servers) await s.close();
    for (const a of apps) await a.stop();
    await target?.cleanup();
    await issuer?.close();
  });

  function logTo(): PassThrough {
    const stream = new PassThrough();
    stream.on('data', (d: Buffer) => (log += d.toString()));
    return stream;
  }

  async function serve(env: Record<string, string> = {}): Promise<FastifyInstance> {
    const app = await createApp(
      target.config({
        ETL_OIDC_ISSUER: issuer.url,
        ETL_OIDC_CLIENT_ID: CLIENT,
        ETL_OIDC_ADMIN_ROLES: 'Etl.Admin',
        ...env,
      }),
      { logger: createLogger({ level: 'info', destination: logTo() }) },
    );
    apps.push(app);
    const server = buildServer(app, deps);
    servers.push(server);
    return server;
  }

  /** /auth/login, the issuer's approval of `user` over real HTTP, and the callback: its answer and the sign-in cookie. */
  async function signIn(server: FastifyInstance, user: string, back: string) {
    const login = await server.inject({ url: `/auth/login?return=${encodeURIComponent(back)}` });
    expect(login.statusCode).toBe(302);
    const authorize = new URL(String(login.headers.location));
    authorize.searchParams.set('login_hint', user);
    const approved = await fetch(authorize, { redirect: 'manual' });
    expect(approved.status).toBe(302);
    const callback = new URL(approved.headers.get('location') ?? '');
    const signInCookie = cookiesOf(login.headers).pairs['cases-etl-sign-in'] ?? '';
    const answer = await server.inject({
      url: callback.pathname + callback.search,
      headers: { cookie: `cases-etl-sign-in=${signInCookie}` },
    });
    return { login, answer, callback };
  }

  it('signs in: PKCE and state to the issuer, a sealed HttpOnly Lax session back, CSRF-checked POSTs', async () => {
    const server = await serve({ ETL_PUBLIC_URL: 'https://etl.school.vic.edu.au/' });
    const { login, answer, callback } = await signIn(server, 'jo', '/dashboard#run=4');
    const to = new URL(String(login.headers.location));
    expect(to.origin + to.pathname).toBe(`${issuer.url}/authorize`);
    expect(Object.fromEntries(to.searchParams)).toMatchObject({
      client_id: CLIENT,
      response_type: 'code',
      scope: 'openid profile',
      redirect_uri: 'https://etl.school.vic.edu.au/auth/callback',
      code_challenge_method: 'S256',
      code_challenge: expect.stringMatching(/^[\w-]{43}$/),
      state: expect.any(String),
      nonce: expect.any(String),
    });
    expect(cookiesOf(login.headers).raw[0]).toMatch(/; Path=\/auth; Max-Age=600; HttpOnly; SameSite=Lax; Secure$/);
    expect(callback.origin).toBe('https://etl.school.vic.edu.au');

    expect(answer.statusCode).toBe(302);
    expect(answer.headers.location).toBe('/dashboard#run=4');
    const { pairs, raw } = cookiesOf(answer.headers);
    expect(raw).toEqual([
      expect.stringMatching(/^cases-etl-sign-in=; Path=\/auth; Max-Age=0; HttpOnly; SameSite=Lax; Secure$/),
      expect.stringMatching(/^cases-etl-session=[\w-]+; Path=\/; Max-Age=28800; HttpOnly; SameSite=Lax; Secure$/),
    ]);
    const session = pairs['cases-etl-session'] ?? '';
    // Sealed: nothing of who it is can be read from it.
    expect(Buffer.from(session, 'base64url').toString('latin1')).not.toMatch(/jo|admin|sub-jo/);

    const cookie = { cookie: `cases-etl-session=${session}` };
    const me = (await server.inject({ url: '/api/cases-etl/session', headers: cookie })).json();
    expect(me).toMatchObject({
      auth: 'oidc',
      signedIn: true,
      name: 'oidc:jo',
      role: 'admin',
      signOutUrl: '/auth/logout',
    });
    const trigger = (headers: Record<string, string>) =>
      server.inject({ method: 'POST', url: '/api/cases-etl/trigger', headers, payload: { school: '8865' } });
    expect((await trigger(cookie)).json()).toMatchObject({ code: 'ETL_AUTH_CSRF' });
    expect((await trigger({ ...cookie, 'x-csrf-token': 'a-guess' })).statusCode).toBe(403);
    expect((await trigger({ ...cookie, 'x-csrf-token': me.csrfToken })).statusCode).toBe(202);

    // A cookie changed by one character is no session at all.
    const flipped = session.slice(0, 20) + (session[20] === 'A' ? 'B' : 'A') + session.slice(21);
    const forged = await server.inject({
      url: '/api/cases-etl/runs',
      headers: { cookie: `cases-etl-session=${flipped}` },
    });
    expect(forged.statusCode).toBe(401);
    // Said in the log: who, never a token, a code or the cookie.
    const lines = log
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l.msg === 'signed in')).toEqual([
      expect.objectContaining({ user: 'oidc:jo', role: 'admin' }),
    ]);
    const code = new URL(`https://x${callback.search}`).searchParams.get('code') ?? '';
    for (const secret of [session, code, me.csrfToken]) expect(log).not.toContain(secret);
    // Another serve process (another key, no ETL_SESSION_SECRET) does not know it either.
    const other = await serve();
    expect((await other.inject({ url: '/api/cases-etl/runs', headers: cookie })).statusCode).toBe(401);
  });

  it('keeps sessions across processes that share ETL_SESSION_SECRET', async () => {
    const secret = { ETL_SESSION_SECRET: 'a-session-secret-of-at-least-32-chars' };
    const one = await serve(secret);
    const { answer } = await signIn(one, 'jo', '/dashboard');
    const cookie = { cookie: `cases-etl-session=${cookiesOf(answer.headers).pairs['cases-etl-session']}` };
    const two = await serve(secret);
    expect((await two.inject({ url: '/api/cases-etl/runs', headers: cookie })).statusCode).toBe(200);
    // Plain http: no Secure flag.
    expect(cookiesOf(answer.headers).raw.join('\n')).not.toContain('Secure');
  });

  it('returns only to a path on this server', async () => {
    const server = await serve();
    for (const back of ['//evil.example/x', 'https://evil.example/', '/\\evil.example'])
      expect((await signIn(server, 'jo', back)).answer.headers.location, back).toBe('/dashboard');
  });

  it('refuses a callback with no sign-in under way, or whose state is not the one sent', async () => {
    const server = await serve();
    const bare = await server.inject('/auth/callback?code=abc&state=xyz');
    expect(bare.statusCode).toBe(400);
    expect(bare.json()).toMatchObject({ code: 'ETL_OIDC_SIGNIN_FAILED' });
    expect(bare.json().error).toContain('no sign-in is under way in this browser');

    const login = await server.inject('/auth/login');
    const cookie = `cases-etl-sign-in=${cookiesOf(login.headers).pairs['cases-etl-sign-in']}`;
    const wrong = await server.inject({ url: '/auth/callback?code=abc&state=not-the-state', headers: { cookie } });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json()).toMatchObject({ code: 'ETL_OIDC_SIGNIN_FAILED' });
    expect(wrong.headers['set-cookie']).toBeUndefined();
    expect(log).toContain('"msg":"sign-in failed"');
  });

  it('answers 503 ETL_OIDC_UNAVAILABLE while the issuer cannot be reached, and signs in once it can', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = probe.address() as { port: number };
        probe.close(() => resolve(p));
      });
    });
    const server = await serve({ ETL_OIDC_ISSUER: `http://127.0.0.1:${port}` });
    const login = await server.inject('/auth/login');
    expect(login.statusCode).toBe(503);
    expect(login.json()).toMatchObject({ code: 'ETL_OIDC_UNAVAILABLE' });
    expect(login.json().error).toMatch(
      new RegExp(`^the OpenID Connect issuer http://127\\.0\\.0\\.1:${port}/? could not be discovered: `),
    );
    const jwt = await issuer.sign({ sub: 'x' });
    const api = await server.inject({ url: '/api/cases-etl/runs', headers: { authorization: `Bearer ${jwt}` } });
    expect(api.statusCode).toBe(503);
    // The probes do not depend on the issuer.
    expect((await server.inject('/livez')).statusCode).toBe(200);

    // A failed discovery is not kept: once the issuer answers, sign-in works.
    const late = await startIssuer({ clientId: CLIENT, users: {}, port });
    try {
      const again = await server.inject('/auth/login');
      expect(again.statusCode).toBe(302);
      expect(again.headers.location).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/authorize\\?`));
    } finally {
      await late.close();
    }
  });
});
