import { join } from 'node:path';

import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { assertServeConfig, createApp, type App } from '../src/app/index.js';
import { loadConfig } from '../src/config/index.js';
import { buildServer, type HttpDeps } from '../src/http/index.js';
import { createLogger } from '../src/observability/logger.js';
import { runEtl } from '../src/pipeline/index.js';
import { startCli } from './helpers/children.js';
import { copySample, editCsv } from './helpers/nights.js';
import { createTarget, type Target } from './helpers/targets.js';

/**
 * ETL_AUTH=token: the viewer and admin roles on serve's routes, the probes open, and serve's
 * refusal to listen beyond loopback with no sign-in at all.
 */

const ADMIN = 'roles-admin-token-0123456789';
const VIEWER = 'roles-viewer-token-0123456789';
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('viewer and admin tokens (ETL_AUTH=token)', () => {
  let target: Target;
  let app: App;
  let server: FastifyInstance;
  let runId: number;
  const requested: string[] = [];
  const deps: HttpDeps = {
    trigger: async ({ requestedBy }) => {
      requested.push(requestedBy);
      return { jobId: null, created: true, mode: 'direct' };
    },
  };

  beforeAll(async () => {
    target = await createTarget('sqlite');
    const src = join(target.dir, 'export');
    await copySample(src);
    // ETL_AUTH is left unset: tokens configured mean token mode.
    app = await createApp(
      target.config({ CASES_DIRECTORY: src, ETL_ADMIN_TOKENS: `ops:${ADMIN}`, ETL_VIEWER_TOKENS: `wall:${VIEWER}` }),
      { logger: createLogger({ level: 'silent' }) },
    );
    await runEtl({ config: app.config, store: app.store, layouts: app.layouts });
    // The second night rejects two birth dates: a run with rejects, whose keys are an admin's to see.
    await editCsv(join(src, 'ST_8865.csv'), (rows, col) =>
      rows.map((r, i) => (i === 2 || i === 9 ? Object.assign([...r], { [col('BIRTHDATE')]: 'whenever' }) : r)),
    );
    runId = (await runEtl({ config: app.config, store: app.store, layouts: app.layouts })).runId as number;
    server = buildServer(app, deps);
    // A route another module adds, with no word about access: the one hook covers it too.
    server.register(async (routes) => {
      routes.get('/api/cases-etl/added-later', { schema: { summary: 'test', hide: false } }, async () => ({}));
    });
    await server.ready();
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await app?.stop();
    await target?.cleanup();
  });

  const READS = [
    '/api/cases-etl/health',
    '/api/cases-etl/metrics',
    '/api/cases-etl/runs',
    '/api/cases-etl/rollbacks',
    '/api/cases-etl/schools',
    '/openapi.json',
  ];

  it('asks every route for a token, a route added later too, but leaves the probes and the page files open', async () => {
    expect(app.config.http.auth.mode).toBe('token');
    for (const url of [...READS, `/api/cases-etl/runs/${runId}`, '/api/cases-etl/added-later', '/nowhere']) {
      const res = await server.inject(url);
      expect(res.statusCode, url).toBe(401);
      expect(res.json(), url).toMatchObject({ code: 'ETL_HTTP_UNAUTHORIZED' });
    }
    for (const url of ['/livez', '/readyz', '/metrics', '/dashboard', '/dashboard/app.js'])
      expect((await server.inject(url)).statusCode, url).toBe(200);
    expect((await server.inject('/api/cases-etl/session')).json()).toEqual({
      auth: 'token',
      signedIn: false,
      name: null,
      role: null,
      csrfToken: null,
      signInUrl: null,
      signOutUrl: null,
    });
    const wrong = await server.inject({ url: '/api/cases-etl/runs', headers: bearer('not-a-token-of-this-server') });
    expect(wrong.statusCode).toBe(401);
  });

  it('lets a viewer read everything but refuses every admin route (403), before any body is read', async () => {
    for (const url of [...READS, `/api/cases-etl/runs/${runId}`, '/api/cases-etl/added-later'])
      expect((await server.inject({ url, headers: bearer(VIEWER) })).statusCode, url).toBe(200);
    const refused = [
      { method: 'POST' as const, url: '/api/cases-etl/trigger', payload: { school: '8865' } },
      { method: 'POST' as const, url: `/api/cases-etl/runs/${runId}/rollback`, payload: { dryRun: true } },
      { method: 'GET' as const, url: `/api/cases-etl/runs/${runId}?original=1` },
      { method: 'GET' as const, url: '/api/cases-etl/history/ST/1?school=8865' },
    ];
    for (const r of refused) {
      const res = await server.inject({ ...r, headers: bearer(VIEWER) });
      expect(res.statusCode, r.url).toBe(403);
      expect(res.json(), r.url).toMatchObject({
        code: 'ETL_AUTH_FORBIDDEN',
        error: 'api:wall is a viewer: this needs the admin role',
      });
    }
    expect(requested).toEqual([]);
    // A viewer sees where and why rows were rejected, but not whose they were.
    type Detail = { rejects: Array<{ key: string | null; field: string | null }> };
    const seen = (await server.inject({ url: `/api/cases-etl/runs/${runId}`, headers: bearer(VIEWER) })).json<Detail>();
    expect(seen.rejects.map((r) => [r.key, r.field])).toEqual([
      [null, 'BIRTHDATE'],
      [null, 'BIRTHDATE'],
    ]);
    const full = (await server.inject({ url: `/api/cases-etl/runs/${runId}`, headers: bearer(ADMIN) })).json<Detail>();
    expect(full.rejects.map((r) => r.key)).toEqual([expect.any(String), expect.any(String)]);
    expect((await server.inject({ url: '/api/cases-etl/session', headers: bearer(VIEWER) })).json()).toMatchObject({
      signedIn: true,
      name: 'api:wall',
      role: 'viewer',
    });
  });

  it('says so in the OpenAPI document: the bearer scheme on every route but the probes and the session', async () => {
    type Doc = { paths: Record<string, Record<string, { security?: unknown }>> };
    const doc = (await server.inject({ url: '/openapi.json', headers: bearer(VIEWER) })).json<Doc>();
    const open = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([, op]) => op.security === undefined)
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    expect(open.sort()).toEqual([
      'DELETE /api/cases-etl/session',
      'GET /api/cases-etl/session',
      'GET /livez',
      'GET /metrics',
      'GET /readyz',
      'POST /api/cases-etl/session',
    ]);
    expect(doc.paths['/api/cases-etl/runs']?.get?.security).toEqual([{ adminToken: [] }]);
  });

  it('lets an admin trigger and roll back, recorded by the token name', async () => {
    const trigger = await server.inject({
      method: 'POST',
      url: '/api/cases-etl/trigger',
      headers: bearer(ADMIN),
      payload: { school: '8865' },
    });
    expect(trigger.statusCode).toBe(202);
    expect(requested).toEqual(['api:ops']);
    const rollback = await server.inject({
      method: 'POST',
      url: `/api/cases-etl/runs/${runId}/rollback`,
      headers: bearer(ADMIN),
      payload: { reason: 'roles test' },
    });
    expect(rollback.statusCode).toBe(200);
    const [recorded] = await app.store.listRollbacks({ limit: 1 });
    expect(recorded).toMatchObject({ targetRunId: runId, requestedBy: 'api:ops' });
    const lines = await server.inject({ url: `/api/cases-etl/runs/${runId}?original=1`, headers: bearer(ADMIN) });
    expect(lines.statusCode).toBe(200);
  });

  it('turns a token into a sign-in cookie for this browser: the same role, CSRF on POSTs, forgotten on DELETE', async () => {
    const cookieOf = (res: { headers: Record<string, unknown> }): string => {
      const raw = ([] as string[]).concat((res.headers['set-cookie'] as string | string[] | undefined) ?? []);
      return raw.map((c) => c.split(';')[0]).join('; ');
    };
    // No token, or a wrong one: no cookie.
    expect((await server.inject({ method: 'POST', url: '/api/cases-etl/session' })).statusCode).toBe(401);
    expect(
      (await server.inject({ method: 'POST', url: '/api/cases-etl/session', headers: bearer('x'.repeat(30)) }))
        .statusCode,
    ).toBe(401);

    const signed = await server.inject({ method: 'POST', url: '/api/cases-etl/session', headers: bearer(ADMIN) });
    expect(signed.statusCode).toBe(200);
    expect(signed.json()).toMatchObject({ auth: 'token', signedIn: true, name: 'api:ops', role: 'admin' });
    expect(String(signed.headers['set-cookie'])).toMatch(
      /^cases-etl-session=[\w-]+; Path=\/; Max-Age=28800; HttpOnly; SameSite=Lax$/,
    );
    const cookie = { cookie: cookieOf(signed) };
    expect(JSON.stringify(cookie)).not.toContain(ADMIN);

    // The cookie alone reads, and does what the token does, with the CSRF token on a POST.
    expect((await server.inject({ url: '/api/cases-etl/runs', headers: cookie })).statusCode).toBe(200);
    const trigger = (headers: Record<string, string>) =>
      server.inject({ method: 'POST', url: '/api/cases-etl/trigger', headers, payload: { school: '8865' } });
    expect((await trigger(cookie)).json()).toMatchObject({ code: 'ETL_AUTH_CSRF' });
    expect((await trigger({ ...cookie, 'x-csrf-token': signed.json().csrfToken })).statusCode).toBe(202);
    expect(requested.at(-1)).toBe('api:ops');

    // A viewer's cookie is a viewer's.
    const viewer = await server.inject({ method: 'POST', url: '/api/cases-etl/session', headers: bearer(VIEWER) });
    const asViewer = { cookie: cookieOf(viewer), 'x-csrf-token': viewer.json().csrfToken };
    expect((await trigger(asViewer)).json()).toMatchObject({ code: 'ETL_AUTH_FORBIDDEN' });

    const out = await server.inject({ method: 'DELETE', url: '/api/cases-etl/session', headers: cookie });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/^cases-etl-session=; Path=\/; Max-Age=0/);
  });
});

describe('ETL_AUTH in the configuration', () => {
  const problemsOf = (env: Record<string, string>): readonly string[] => {
    try {
      loadConfig(env);
    } catch (err) {
      return (err as { problems: readonly string[] }).problems;
    }
    return [];
  };

  it('follows what is configured when unset, and asks for what a mode needs', () => {
    expect(loadConfig({}).http.auth).toMatchObject({ mode: 'none', modeSet: false });
    expect(loadConfig({ ETL_VIEWER_TOKENS: VIEWER }).http.auth.mode).toBe('token');
    expect(
      loadConfig({ ETL_OIDC_ISSUER: 'https://login.microsoftonline.com/t/v2.0', ETL_OIDC_CLIENT_ID: 'c' }).http.auth,
    ).toMatchObject({ mode: 'oidc', oidc: { audience: 'c', adminGroups: [], clientSecret: null } });
    expect(problemsOf({ ETL_AUTH: 'token' })).toEqual(['ETL_AUTH=token needs ETL_ADMIN_TOKENS or ETL_VIEWER_TOKENS']);
    expect(problemsOf({ ETL_AUTH: 'OIDC' })).toEqual([
      'ETL_AUTH=oidc needs ETL_OIDC_ISSUER',
      'ETL_AUTH=oidc needs ETL_OIDC_CLIENT_ID',
    ]);
    expect(problemsOf({ ETL_AUTH: 'ldap' })).toEqual(['ETL_AUTH="ldap" must be one of none, token, oidc']);
    expect(problemsOf({ ETL_OIDC_ISSUER: 'http://login.example.com/', ETL_OIDC_CLIENT_ID: 'c' })).toEqual([
      'ETL_OIDC_ISSUER must be https:// (http:// only on this machine, for tests)',
    ]);
    expect(problemsOf({ ETL_SESSION_SECRET: 'short' })).toEqual(['ETL_SESSION_SECRET must be 32 characters or more']);
  });

  it('lets serve listen beyond loopback only with sign-in on, or open when ETL_AUTH=none says so', () => {
    const refused = (env: Record<string, string>): boolean => {
      try {
        assertServeConfig(loadConfig(env));
        return false;
      } catch (err) {
        return (err as { code?: string }).code === 'ETL_AUTH_REQUIRED';
      }
    };
    expect(refused({ HOST: '0.0.0.0' })).toBe(true);
    expect(refused({ HOST: 'etl.school.lan' })).toBe(true);
    for (const host of ['127.0.0.1', '127.0.1.1', 'localhost', '::1'])
      expect(refused({ HOST: host }), host).toBe(false);
    expect(refused({ HOST: '0.0.0.0', ETL_ADMIN_TOKENS: ADMIN })).toBe(false);
    expect(refused({ HOST: '0.0.0.0', ETL_AUTH: 'none' })).toBe(false);
  });

  it('ends `serve` on HOST=0.0.0.0 with no sign-in at once: exit 2, saying why, before it listens', async () => {
    const target = await createTarget('sqlite');
    try {
      const serve = startCli(['serve'], { ...target.env, HOST: '0.0.0.0', PORT: '0' });
      const code = await Promise.race([
        serve.exited,
        new Promise<'hung'>((r) => setTimeout(() => r('hung'), 15_000).unref()),
      ]);
      if (code === 'hung') await serve.stop();
      expect(code, serve.log()).toBe(2);
      expect(serve.log()).toContain(
        'error ETL_AUTH_REQUIRED: HOST=0.0.0.0 listens beyond this machine, but no sign-in is configured',
      );
      expect(serve.log()).not.toContain('HTTP listening');
    } finally {
      await target.cleanup();
    }
  });
});
