import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { createApp, type App } from '../src/app/index.js';
import { buildServer } from '../src/http/index.js';
import { createLogger } from '../src/observability/logger.js';
import { runEtl } from '../src/pipeline/index.js';
import { copySample } from './helpers/nights.js';
import { createTarget, DIALECTS, type Target } from './helpers/targets.js';

const TOKEN = 'a-long-admin-token-for-tests';
const auth = { authorization: `Bearer ${TOKEN}` };

/** One request over a real socket; the body is written whole, whatever the server answers first. */
function post(
  port: number,
  path: string,
  body: Buffer,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(body.length), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    // The server may answer and close before it has read the body: that is the point.
    req.on('error', (err) =>
      (err as NodeJS.ErrnoException).code === 'EPIPE' || (err as NodeJS.ErrnoException).code === 'ECONNRESET'
        ? undefined
        : reject(err),
    );
    req.end(body);
  });
}

describe.each(DIALECTS)('HTTP hardening on %s', (dialect) => {
  let target: Target;
  let src: string;
  const apps: App[] = [];
  const servers: FastifyInstance[] = [];

  beforeEach(async () => {
    target = await createTarget(dialect);
    src = join(target.dir, 'export');
    await copySample(src);
  });
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
    for (const a of apps.splice(0)) await a.stop();
    await target.cleanup();
  });

  const serve = async (env: Record<string, string> = {}): Promise<{ app: App; server: FastifyInstance }> => {
    // ETL_AUTH=none: reads open and the token for admin routes only (token mode: auth-roles.test.ts).
    const app = await createApp(
      target.config({ CASES_DIRECTORY: src, ETL_ADMIN_TOKENS: `ops:${TOKEN}`, ETL_AUTH: 'none', ...env }),
      {
        logger: createLogger({ level: 'silent' }),
      },
    );
    apps.push(app);
    const server = buildServer(app, { trigger: async () => ({ jobId: null, created: true, mode: 'direct' }) });
    servers.push(server);
    return { app, server };
  };

  it('answers ids past the integer range with 404, and ids that are not numbers with 400', async () => {
    const { app, server } = await serve();
    const run = await runEtl({ config: app.config, store: app.store, layouts: app.layouts });
    const get = async (id: string): Promise<number> =>
      (await server.inject({ method: 'GET', url: `/api/cases-etl/runs/${id}` })).statusCode;
    expect(await get(String(run.runId))).toBe(200);
    for (const id of [
      '99999999999999999999',
      '9223372036854775807',
      '9223372036854775808',
      '9007199254740992',
      '1'.repeat(60),
    ]) {
      expect(await get(id), id).toBe(404);
    }
    for (const id of ['abc', '0', '-1', '1.5', '1e3', '0x10', '007']) expect(await get(id), id).toBe(400);
    const rollback = await server.inject({
      method: 'POST',
      url: '/api/cases-etl/runs/99999999999999999999/rollback',
      headers: auth,
      payload: { dryRun: true },
    });
    expect(rollback.statusCode).toBe(404);
    expect(rollback.json()).toMatchObject({ code: 'ETL_RUN_UNKNOWN' });
  });

  it('answers every error in one shape, { error, code, statusCode }: our codes, Fastify checks and unknown routes alike', async () => {
    const { server } = await serve();
    const shape = async (request: InjectOptions, statusCode: number, code: string): Promise<void> => {
      const res = await server.inject(request);
      const what = JSON.stringify(request);
      expect(res.statusCode, what).toBe(statusCode);
      const body = res.json() as Record<string, unknown>;
      expect(Object.keys(body).sort(), what).toEqual(['code', 'error', 'statusCode']);
      expect(body, what).toMatchObject({ code, statusCode });
      expect(typeof body.error, what).toBe('string');
    };
    await shape({ method: 'GET', url: '/nowhere' }, 404, 'ETL_HTTP_NOT_FOUND');
    await shape({ method: 'DELETE', url: '/api/cases-etl/runs' }, 404, 'ETL_HTTP_NOT_FOUND');
    await shape({ method: 'GET', url: '/api/cases-etl/runs/424242' }, 404, 'ETL_RUN_UNKNOWN');
    await shape({ method: 'GET', url: '/api/cases-etl/runs/abc' }, 400, 'ETL_HTTP_INVALID_REQUEST');
    await shape({ method: 'GET', url: '/api/cases-etl/runs?limit=0' }, 400, 'ETL_HTTP_INVALID_REQUEST');
    await shape({ method: 'POST', url: '/api/cases-etl/trigger', payload: {} }, 401, 'ETL_HTTP_UNAUTHORIZED');
    await shape(
      {
        method: 'POST',
        url: '/api/cases-etl/trigger',
        headers: { ...auth, 'content-type': 'application/json' },
        payload: '{"school":',
      },
      400,
      'ETL_HTTP_INVALID_REQUEST',
    );
    await shape(
      { method: 'GET', url: '/api/cases-etl/health', headers: { host: 'evil.example' } },
      421,
      'ETL_HTTP_HOST_REFUSED',
    );
    const { server: open } = await serve({ ETL_ADMIN_TOKENS: '' });
    const res = await open.inject({ method: 'POST', url: '/api/cases-etl/trigger', payload: {} });
    expect(res.json()).toEqual({
      error: 'no admin tokens are configured (ETL_ADMIN_TOKENS)',
      code: 'ETL_HTTP_FORBIDDEN',
      statusCode: 403,
    });
  });

  it('checks the admin token before reading the body: a big invalid body without one is 401, never parsed', async () => {
    const { server } = await serve();
    let parsed = 0;
    server.addHook('preParsing', async () => {
      parsed++;
    });
    await server.listen({ host: '127.0.0.1', port: 0 });
    const { port } = server.server.address() as AddressInfo;
    // Just under Fastify's 1 MiB body limit, and not JSON: a parser that ran would answer 400.
    const big = Buffer.alloc((1 << 20) - 16, 'x');
    for (const path of ['/api/cases-etl/trigger', '/api/cases-etl/runs/1/rollback']) {
      const refused = await post(port, path, big, {});
      expect(refused.status, path).toBe(401);
      expect(JSON.parse(refused.body), path).toEqual({
        error: 'a valid bearer token is required',
        code: 'ETL_HTTP_UNAUTHORIZED',
        statusCode: 401,
      });
      expect((await post(port, path, big, { authorization: 'Bearer wrong-token-wrong-token' })).status, path).toBe(401);
    }
    expect(parsed).toBe(0);
    // With the token the body is read, and this one is refused for what it is.
    expect((await post(port, '/api/cases-etl/trigger', big, auth)).status).toBe(400);
    expect(parsed).toBe(1);
  });

  it('refuses a Host header outside ETL_ALLOWED_HOSTS with 421, before anything else', async () => {
    const { server } = await serve({ ETL_PUBLIC_URL: 'https://etl.school.example:8443/cases/' });
    const status = async (host: string, url = '/api/cases-etl/health'): Promise<number> =>
      (await server.inject({ method: 'GET', url, headers: { host } })).statusCode;
    for (const host of [
      'localhost',
      'localhost:3000',
      '127.0.0.1:3000',
      '[::1]:3000',
      'LOCALHOST',
      'etl.school.example',
      'etl.school.example:443',
    ]) {
      expect(await status(host), host).toBe(200);
    }
    for (const host of [
      'attacker.example',
      'attacker.example:3000',
      'localhost.attacker.example',
      '127.0.0.2',
      'localhost:x',
    ]) {
      expect(await status(host), host).toBe(421);
    }
    const refused = await server.inject({
      method: 'POST',
      url: '/api/cases-etl/trigger',
      headers: { host: 'attacker.example', ...auth },
      payload: { school: '8865' },
    });
    expect(refused.statusCode).toBe(421);
    expect(refused.json()).toMatchObject({ code: 'ETL_HTTP_HOST_REFUSED' });
    expect(await status('attacker.example', '/dashboard')).toBe(421);
    expect(await status('attacker.example', '/livez')).toBe(421);

    const { server: named } = await serve({ ETL_ALLOWED_HOSTS: 'etl.lan' });
    expect((await named.inject({ method: 'GET', url: '/livez', headers: { host: 'etl.lan:3000' } })).statusCode).toBe(
      200,
    );
    expect((await named.inject({ method: 'GET', url: '/livez', headers: { host: 'localhost' } })).statusCode).toBe(421);
    const { server: open } = await serve({ ETL_ALLOWED_HOSTS: '*' });
    expect(
      (await open.inject({ method: 'GET', url: '/livez', headers: { host: 'attacker.example' } })).statusCode,
    ).toBe(200);
  });

  it('sends the security headers on every response: JSON, metrics, liveness, the dashboard and refusals', async () => {
    const { app, server } = await serve();
    const run = await runEtl({ config: app.config, store: app.store, layouts: app.layouts });
    const head = async (url: string, method: 'GET' | 'POST' = 'GET'): Promise<Record<string, unknown>> => {
      const res = await server.inject({ method, url, ...(method === 'POST' ? { payload: {} } : {}) });
      return res.headers;
    };
    const pages = {
      json: await head(`/api/cases-etl/runs/${run.runId}`),
      list: await head('/api/cases-etl/runs'),
      unknown: await head('/api/cases-etl/runs/999999'),
      refused: await head('/api/cases-etl/trigger', 'POST'),
      metrics: await head('/metrics'),
      livez: await head('/livez'),
      dashboard: await head('/dashboard'),
      script: await head('/dashboard/app.js'),
    };
    for (const [name, h] of Object.entries(pages)) {
      expect(h['x-content-type-options'], name).toBe('nosniff');
      expect(h['referrer-policy'], name).toBe('no-referrer');
    }
    for (const name of ['json', 'list', 'unknown', 'refused'] as const)
      expect(pages[name]['cache-control'], name).toBe('no-store');
    expect(pages.dashboard['content-security-policy']).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    expect(pages.dashboard['cache-control']).toBe('no-cache');
    for (const name of ['json', 'metrics', 'livez', 'script'] as const)
      expect(pages[name]['content-security-policy'], name).toBeUndefined();
  });
});
