import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createApp, type App } from '../src/app/index.js';
import { buildServer, type HttpDeps } from '../src/http/index.js';
import { createLogger } from '../src/observability/logger.js';
import { startIssuer, type Issuer } from './helpers/oidc-issuer.js';
import { createTarget, type Target } from './helpers/targets.js';

/**
 * Bearer JWTs on the API under ETL_AUTH=oidc, against a real issuer on loopback (its discovery
 * document and JWKS fetched over HTTP, its tokens signed with jose): the eight cases a token can
 * be, through serve's own routes.
 */

const CLIENT = 'cases-etl-test-client';
const ADMINS = 'grp-etl-admins';

describe('bearer JWTs from the issuer (ETL_AUTH=oidc)', () => {
  let issuer: Issuer;
  let target: Target;
  let app: App;
  let server: FastifyInstance;
  const requested: string[] = [];
  const deps: HttpDeps = {
    trigger: async ({ requestedBy }) => {
      requested.push(requestedBy);
      return { jobId: 'job-1', created: true, mode: 'queue' };
    },
  };
  const now = (): number => Math.floor(Date.now() / 1000);
  const get = (token?: string) =>
    server.inject({ url: '/api/cases-etl/runs', headers: token ? { authorization: `Bearer ${token}` } : {} });
  const trigger = (token: string) =>
    server.inject({
      method: 'POST',
      url: '/api/cases-etl/trigger',
      headers: { authorization: `Bearer ${token}` },
      payload: { school: '8865' },
    });

  beforeAll(async () => {
    issuer = await startIssuer({ clientId: CLIENT, users: {} });
    target = await createTarget('sqlite');
    app = await createApp(
      target.config({ ETL_OIDC_ISSUER: issuer.url, ETL_OIDC_CLIENT_ID: CLIENT, ETL_OIDC_ADMIN_GROUPS: ADMINS }),
      { logger: createLogger({ level: 'silent' }) },
    );
    // No cooldown between JWKS fetches, so a rotated key is looked up at once (30 s in serve).
    server = buildServer(app, deps, { jwksCooldownMs: 0 });
  });

  afterAll(async () => {
    await server?.close();
    await app?.stop();
    await target?.cleanup();
    await issuer?.close();
  });

  it('takes an admin token: reads and triggers, recorded as oidc:<preferred_username>', async () => {
    expect(app.config.http.auth.mode).toBe('oidc');
    const token = await issuer.sign({ sub: 'u-1', preferred_username: 'jo@school.vic.edu.au', groups: [ADMINS] });
    expect((await get(token)).statusCode).toBe(200);
    const res = await trigger(token);
    expect(res.statusCode).toBe(202);
    expect(requested).toEqual(['oidc:jo@school.vic.edu.au']);
    const session = (
      await server.inject({ url: '/api/cases-etl/session', headers: { authorization: `Bearer ${token}` } })
    ).json();
    expect(session).toEqual({
      auth: 'oidc',
      signedIn: true,
      name: 'oidc:jo@school.vic.edu.au',
      role: 'admin',
      csrfToken: null,
      signInUrl: null,
      signOutUrl: null,
    });
  });

  it('takes a viewer token for reads and refuses it the admin routes (403)', async () => {
    const token = await issuer.sign({ sub: 'u-2', preferred_username: 'sam', groups: ['grp-teachers'] });
    expect((await get(token)).statusCode).toBe(200);
    const res = await trigger(token);
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({
      code: 'ETL_AUTH_FORBIDDEN',
      error: 'oidc:sam is a viewer: this needs the admin role',
    });
    expect(requested).not.toContain('oidc:sam');
  });

  it('refuses an expired token, and allows a minute of clock skew', async () => {
    const expired = await issuer.sign({ sub: 'u-1', groups: [ADMINS], iat: now() - 7200, exp: now() - 600 });
    const res = await get(expired);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({
      code: 'ETL_AUTH_TOKEN_INVALID',
      error: 'the bearer token was refused: it has expired',
    });
    expect(res.body).not.toContain(expired);
    const justExpired = await issuer.sign({ sub: 'u-1', iat: now() - 3600, exp: now() - 20 });
    expect((await get(justExpired)).statusCode).toBe(200);
  });

  it('refuses a token for another audience', async () => {
    const res = await get(await issuer.sign({ sub: 'u-1', groups: [ADMINS], aud: 'some-other-app' }));
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toBe('the bearer token was refused: it is for another audience');
  });

  it('refuses a token from another issuer, though signed with a key this issuer publishes', async () => {
    const res = await get(await issuer.sign({ sub: 'u-1', groups: [ADMINS], iss: 'https://login.example.com/other' }));
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toBe('the bearer token was refused: it is from another issuer');
  });

  it('refuses a tampered token: a viewer who writes the admin group into their own claims', async () => {
    const token = await issuer.sign({ sub: 'u-2', preferred_username: 'sam', groups: ['grp-teachers'] });
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, groups: [ADMINS] })).toString('base64url');
    const res = await trigger(`${header}.${forged}.${signature}`);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({
      code: 'ETL_AUTH_TOKEN_INVALID',
      error: 'the bearer token was refused: its signature does not verify',
    });
  });

  it('fetches the JWKS again for an unknown key id (rotation), and refuses a key the issuer never published', async () => {
    expect((await get(await issuer.sign({ sub: 'u-1' }))).statusCode).toBe(200);
    const before = issuer.jwksFetches();
    await issuer.rotate();
    const rotated = await issuer.sign({ sub: 'u-1', preferred_username: 'jo', groups: [ADMINS] });
    expect((await trigger(rotated)).statusCode).toBe(202);
    expect(issuer.jwksFetches()).toBe(before + 1);
    // Known now: no further fetch.
    expect((await get(rotated)).statusCode).toBe(200);
    expect(issuer.jwksFetches()).toBe(before + 1);

    const foreign = await issuer.sign({ sub: 'u-1', groups: [ADMINS] }, { key: await issuer.foreignKey() });
    const res = await get(foreign);
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toBe(
      "the bearer token was refused: it is signed by a key the issuer's JWKS does not hold",
    );
  });

  it('refuses no token (401) and a token that is not a JWT, and leaves the probes open', async () => {
    const res = await get();
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({
      code: 'ETL_HTTP_UNAUTHORIZED',
      error: 'sign in (/auth/login) or send a bearer token',
    });
    expect((await get('not-a-jwt-and-not-a-configured-token')).statusCode).toBe(401);
    for (const url of ['/livez', '/metrics']) expect((await server.inject(url)).statusCode, url).toBe(200);
    expect((await server.inject('/readyz')).statusCode).toBe(200);
    // A browser opening the dashboard is sent to sign in, and brought back after.
    const page = await server.inject({ url: '/dashboard', headers: { accept: 'text/html' } });
    expect(page.statusCode).toBe(302);
    expect(page.headers.location).toBe('/auth/login?return=%2Fdashboard');
  });
});
