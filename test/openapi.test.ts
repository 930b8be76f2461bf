import { join } from 'node:path';

import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createApp, type App } from '../src/app/index.js';
import { buildProbeServer, buildServer, type HttpDeps } from '../src/http/index.js';
import { DOCS_CSP } from '../src/http/openapi.js';
import { createLogger } from '../src/observability/logger.js';
import { runEtl } from '../src/pipeline/index.js';
import { copySample, editCsv, readCsv } from './helpers/nights.js';
import { createTarget, DIALECTS, type Target } from './helpers/targets.js';

const TOKEN = 'openapi-admin-token-0123456';
const ADMIN = { authorization: `Bearer ${TOKEN}` };

/** Routes that are files, not API, hidden from the document on purpose (the dashboard's and swagger-ui's). */
const HIDDEN = [
  'GET /',
  'GET /dashboard',
  'GET /dashboard/app.js',
  'GET /dashboard/api.js',
  'GET /dashboard/charts.js',
  'GET /dashboard/format.js',
  'GET /assets/uplot.js',
  'GET /assets/uplot.css',
  'GET /dashboard/style.css',
  'GET /favicon.ico',
  'GET /docs',
  'GET /docs/json',
  'GET /docs/yaml',
  'GET /docs/static/*',
  'GET /docs/static/index.html',
  'GET /docs/static/swagger-initializer.js',
];

interface OpenApiDoc {
  openapi: string;
  paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
}

/** `/api/x/:id` as OpenAPI writes it, `/api/x/{id}`. */
const openApiPath = (url: string): string => url.replace(/:([A-Za-z_]+)/g, '{$1}');

/** A JSON pointer's segment (`/` and `~` escaped). */
const pointer = (s: string): string => s.replace(/~/g, '~0').replace(/\//g, '~1');

/** The trigger HTTP calls: what it answers is the route's answer, so the test knows it exactly. */
const TRIGGERED = { jobId: 'job-8865-1', created: true, mode: 'queue' } as const;
const deps: HttpDeps = { trigger: async () => ({ ...TRIGGERED }) };

describe.each(DIALECTS)('the OpenAPI document and every answer against it, on %s', (dialect) => {
  let target: Target;
  let app: App;
  /** serve's server, answers serialised by their schemas. */
  let server: FastifyInstance;
  /** The same routes with JSON.stringify for every answer: what the handlers return, nothing dropped. */
  let plain: FastifyInstance;
  /** Every route registered on `server`, as `METHOD url` (HEAD routes Fastify adds left out). */
  const registered: string[] = [];
  /** Every route a request of this test reached, with the status it answered. */
  const reached = new Set<string>();
  let doc: OpenApiDoc;
  let ajv: Ajv2020;
  let runs: number[];
  let key: string;

  beforeAll(async () => {
    target = await createTarget(dialect);
    const src = join(target.dir, 'export');
    await copySample(src);
    // ETL_AUTH=none: reads open and the token for admin routes only (token mode: auth-roles.test.ts).
    app = await createApp(target.config({ CASES_DIRECTORY: src, ETL_ADMIN_TOKENS: `ops:${TOKEN}`, ETL_AUTH: 'none' }), {
      logger: createLogger({ level: 'silent' }),
    });
    const first = await runEtl({ config: app.config, store: app.store, layouts: app.layouts });
    // Night 2 rejects two birth dates (stored rejects, held rows) and moves a student (an update).
    const st = await readCsv(join(src, 'ST_8865.csv'));
    key = st.rows[5]?.[st.header.indexOf('STKEY')] ?? '';
    await editCsv(join(src, 'ST_8865.csv'), (rows, col) =>
      rows.map((r, i) =>
        i === 2 || i === 9
          ? Object.assign([...r], { [col('BIRTHDATE')]: 'whenever' })
          : i === 5
            ? Object.assign([...r], { [col('HOME_GROUP')]: 'ZZ9' })
            : r,
      ),
    );
    const second = await runEtl({ config: app.config, store: app.store, layouts: app.layouts });
    runs = [first.runId as number, second.runId as number];

    server = buildServer(app, deps);
    server.addHook('onRoute', (r) => {
      for (const method of [r.method].flat()) if (method !== 'HEAD') registered.push(`${method} ${r.url}`);
    });
    server.addHook('onResponse', async (req, reply) => {
      reached.add(`${req.method} ${req.routeOptions.url ?? ''} ${reply.statusCode}`);
    });
    plain = buildServer(app, deps);
    plain.setSerializerCompiler(() => (data) => JSON.stringify(data));
    await Promise.all([server.ready(), plain.ready()]);

    doc = (await server.inject('/openapi.json')).json<OpenApiDoc>();
    ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addSchema(doc, 'openapi.json');
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await plain?.close();
    await app?.stop();
    await target?.cleanup();
  });

  /** Checks `res` against the document's schema for its route and status, and returns its body. */
  function assertDocumented(method: string, route: string, res: LightMyRequestResponse): unknown {
    const responses = doc.paths[openApiPath(route)]?.[method.toLowerCase()]?.responses ?? {};
    const status = String(res.statusCode);
    const key = status in responses ? status : `${status[0]}XX`;
    expect(responses, `${method} ${route} documents ${status}`).toHaveProperty([key]);
    const where = ['paths', openApiPath(route), method.toLowerCase(), 'responses', key];
    const validate = ajv.compile({
      $ref: `openapi.json#/${where.map(pointer).join('/')}/content/application~1json/schema`,
    });
    const body: unknown = res.json();
    expect(validate(body) ? [] : validate.errors, `${method} ${route} ${status}`).toEqual([]);
    return body;
  }

  /**
   * GETs `url` (route `route`) from both servers: the answer must match the document, and equal
   * what the handler returned, so serialisation dropped nothing.
   */
  async function get(route: string, url: string, headers: Record<string, string> = {}): Promise<unknown> {
    const [res, raw] = await Promise.all([server.inject({ url, headers }), plain.inject({ url, headers })]);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = assertDocumented('GET', route, res);
    expect(res.statusCode).toBe(raw.statusCode);
    expect(body).toEqual(raw.json());
    return body;
  }

  it('is valid OpenAPI 3.1, with every registered route in it but the files listed as hidden', async () => {
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeTruthy();
    expect(doc.openapi).toBe('3.1.0');
    const api = registered.filter((r) => !HIDDEN.includes(r));
    expect(registered).toEqual(expect.arrayContaining(HIDDEN));
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(api.map((r) => openApiPath(r)).sort());
    expect(api.length).toBeGreaterThanOrEqual(13);
    // The hook saw every route the server has: a route added where the hook (and @fastify/swagger)
    // could not see it would be counted in Fastify's own tree but missing from `registered`.
    const tree = server.printRoutes({ commonPrefix: false });
    const methods = [...tree.matchAll(/\(([A-Z, ]+)\)/g)].flatMap((m) => (m[1] ?? '').split(', '));
    // (Plus one: swagger-ui's '/' under the /docs prefix is also answered at /docs/, which Fastify
    // adds to the tree without an onRoute call; it is the same hidden page.)
    expect(tree).toMatch(/docs \(GET, HEAD\)\n\s+│\s+└── \/ \(GET, HEAD\)/);
    expect(methods.filter((m) => m !== 'HEAD')).toHaveLength(registered.length + 1);
    // Every route says what it answers when it works, and how it fails.
    for (const [path, ops] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(ops)) {
        const ok = Object.keys(op.responses).filter((s) => s.startsWith('2'));
        expect(ok, `${method} ${path}`).toHaveLength(1);
        expect(op.responses, `${method} ${path}`).toHaveProperty(['4XX']);
      }
  });

  it('puts the bearer scheme on exactly the admin routes', () => {
    expect(doc.components.securitySchemes).toEqual({ adminToken: expect.objectContaining({ scheme: 'bearer' }) });
    const secured = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([, op]) => op.security !== undefined)
        .map(([m, op]) => [`${m.toUpperCase()} ${path}`, op.security]),
    );
    expect(Object.fromEntries(secured)).toEqual({
      'POST /api/cases-etl/trigger': [{ adminToken: [] }],
      'POST /api/cases-etl/runs/{id}/rollback': [{ adminToken: [] }],
      'GET /api/cases-etl/history/{table}/{key}': [{ adminToken: [] }],
      // Open, but ?original=1 (the rejected lines, personal data) needs the token.
      'GET /api/cases-etl/runs/{id}': [{}, { adminToken: [] }],
      'GET /api/cases-etl/runs/{id}/rejects.csv': [{ adminToken: [] }],
      // Open; a token, when sent, must be valid.
    });
  });

  it('answers every JSON GET as documented, dropping nothing the handler returned', async () => {
    // The two servers must differ in how they serialise, or comparing them would prove nothing:
    // fast-json-stringify writes a run's fields in the schema's order, JSON.stringify in the store's.
    const [typed, raw] = await Promise.all([server.inject('/api/cases-etl/runs'), plain.inject('/api/cases-etl/runs')]);
    expect(typed.json()).toEqual(raw.json());
    expect(typed.body).not.toBe(raw.body);

    await get('/livez', '/livez');
    await get('/readyz', '/readyz');
    await get('/openapi.json', '/openapi.json');
    await get('/api/cases-etl/health', '/api/cases-etl/health');
    await get('/api/cases-etl/metrics', '/api/cases-etl/metrics');
    await get('/api/cases-etl/schools', '/api/cases-etl/schools');
    await get('/api/cases-etl/session', '/api/cases-etl/session', ADMIN);
    await get('/api/cases-etl/runs', '/api/cases-etl/runs?limit=5&school=8865');
    await get('/api/cases-etl/rollbacks', '/api/cases-etl/rollbacks');
    for (const id of runs) await get('/api/cases-etl/runs/:id', `/api/cases-etl/runs/${id}`);
    const history = '/api/cases-etl/history/:table/:key';
    await get(history, `/api/cases-etl/history/ST/${key}?school=8865`, ADMIN);
    await get(history, `/api/cases-etl/history/ST/${key}?school=8865&show_values=true`, ADMIN);
    // Errors too: an unknown run, a refused token, a query the schema refuses.
    await get('/api/cases-etl/runs/:id', '/api/cases-etl/runs/999999');
    await get(history, `/api/cases-etl/history/ST/${key}`);
    await get('/api/cases-etl/runs', '/api/cases-etl/runs?limit=0');
    // The console's.
    await get('/api/cases-etl/console/runs', '/api/cases-etl/console/runs?school=8865&status=warning&limit=1');
    await get('/api/cases-etl/console/runs', '/api/cases-etl/console/runs?status=nope');
    for (const id of runs) await get('/api/cases-etl/runs/:id/rejects', `/api/cases-etl/runs/${id}/rejects?limit=1`);
    await get('/api/cases-etl/runs/:id/rejects', '/api/cases-etl/runs/999999/rejects');
    await get('/api/cases-etl/console/charts', '/api/cases-etl/console/charts?school=8865');
    await get('/api/cases-etl/console/queue', '/api/cases-etl/console/queue');
    const csv = await server.inject({ url: `/api/cases-etl/runs/${runs[1]}/rejects.csv`, headers: ADMIN });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(doc.paths['/api/cases-etl/runs/{id}/rejects.csv']?.get?.responses['200']).toHaveProperty([
      'content',
      'text/csv',
    ]);
    await get('/api/cases-etl/runs/:id/rejects.csv', `/api/cases-etl/runs/${runs[1]}/rejects.csv`);
  });

  it("serialises the store's records whole: runs, files, rejects (lines only for an admin), schools", async () => {
    const json = (v: unknown): unknown => JSON.parse(JSON.stringify(v));
    const [, second] = runs;
    expect(await get('/api/cases-etl/runs', '/api/cases-etl/runs')).toEqual(
      json(await app.store.listRuns({ limit: 50, school: null })),
    );
    const detail = (await get('/api/cases-etl/runs/:id', `/api/cases-etl/runs/${second}`)) as Record<string, unknown>;
    const rejects = await app.store.listRejects(second as number, 100);
    expect(rejects.length).toBeGreaterThan(0);
    expect(detail).toEqual(
      json({
        run: await app.store.getRun(second as number),
        files: await app.store.listRunFiles(second as number),
        rejects,
      }),
    );
    // Without the token no original line; with it, each reject carries its line and length.
    expect(JSON.stringify(detail)).not.toMatch(/originalLine|whenever/);
    const withLines = await get('/api/cases-etl/runs/:id', `/api/cases-etl/runs/${second}?original=1`, ADMIN);
    const originals = await app.store.listRejects(second as number, 100, { originals: true });
    expect((withLines as { rejects: unknown }).rejects).toEqual(json(originals));
    expect(JSON.stringify(withLines)).toMatch(/whenever/);
    expect((await server.inject(`/api/cases-etl/runs/${second}?original=1`)).statusCode).toBe(401);

    const schools = (await get('/api/cases-etl/schools', '/api/cases-etl/schools')) as Array<Record<string, unknown>>;
    expect(schools).toEqual(json(await app.store.schoolSummaries()));
    expect(schools[0]).toHaveProperty(['durations', 'buckets']);
    expect(schools[0]).toHaveProperty(['finished', 'warning'], 1);
  });

  it('answers the admin POSTs as documented: trigger, a dry-run rollback and a real one', async () => {
    const post = async (target: FastifyInstance, route: string, url: string, body: unknown) => {
      const res = await target.inject({ method: 'POST', url, headers: ADMIN, payload: body as object });
      return { res, body: assertDocumented('POST', route, res) };
    };
    const trigger = await post(server, '/api/cases-etl/trigger', '/api/cases-etl/trigger', { school: '8865' });
    expect(trigger.res.statusCode).toBe(202);
    expect(trigger.body).toEqual(TRIGGERED);

    const route = '/api/cases-etl/runs/:id/rollback';
    const url = `/api/cases-etl/runs/${runs[1]}/rollback`;
    const dry = await post(server, route, url, { dryRun: true });
    expect(dry.body).toEqual((await post(plain, route, url, { dryRun: true })).body);
    expect(dry.body).toMatchObject({ dryRun: true, rollbackId: null, runId: runs[1] });

    const done = await post(server, route, url, { reason: 'openapi test' });
    expect(done.res.statusCode).toBe(200);
    const [recorded] = await app.store.listRollbacks({ limit: 1 });
    expect(done.body).toEqual({
      rollbackId: recorded?.id,
      runId: runs[1],
      school: '8865',
      dryRun: false,
      runs: recorded?.detail,
      rowsDeleted: recorded?.rowsDeleted,
      rowsRestored: recorded?.rowsRestored,
      notifications: [],
    });
    expect(await get('/api/cases-etl/rollbacks', '/api/cases-etl/rollbacks')).toEqual(
      JSON.parse(JSON.stringify(await app.store.listRollbacks({ limit: 50, school: null }))),
    );
    // Refused twice: an error, in its documented shape.
    expect((await post(server, route, url, {})).res.statusCode).toBe(409);

    // A token turned into this browser's cookie, and forgotten.
    const session = await post(server, '/api/cases-etl/session', '/api/cases-etl/session', undefined);
    expect(session.body).toMatchObject({ signedIn: true, name: 'api:ops', role: 'admin' });
    const forgot = await server.inject({ method: 'DELETE', url: '/api/cases-etl/session' });
    expect(forgot.statusCode).toBe(204);
    expect(forgot.body).toBe('');
    expect(doc.paths['/api/cases-etl/session']?.delete?.responses).toHaveProperty(['204']);
  });

  it('was asked every documented route (so each answer above was checked), /metrics as text', async () => {
    const res = await server.inject('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(doc.paths['/metrics']?.get?.responses['200']).toHaveProperty(['content', 'text/plain']);
    const asked = new Set([...reached].map((r) => r.split(' ').slice(0, 2).join(' ')));
    const documented = registered.filter((r) => !HIDDEN.includes(r));
    expect(documented.filter((r) => !asked.has(r))).toEqual([]);
    expect([...reached].some((r) => r.endsWith(' 404')) && [...reached].some((r) => r.endsWith(' 401'))).toBe(true);
  });
});

describe('/docs', () => {
  it('serves swagger-ui and all its files from the app itself, under the docs CSP', async () => {
    const target = await createTarget('sqlite');
    const app = await createApp(target.config(), { logger: createLogger({ level: 'silent' }) });
    const server = buildServer(app, deps);
    try {
      const page = await server.inject('/docs');
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.headers['content-security-policy']).toBe(DOCS_CSP);
      expect(DOCS_CSP).toContain("script-src 'self';");
      const assets = [...page.body.matchAll(/(?:src|href)="([^"]*)"/g)].map((m) => m[1] ?? '');
      expect(assets).toEqual(
        expect.arrayContaining(['/docs/static/swagger-ui-bundle.js', '/docs/static/swagger-ui.css']),
      );
      for (const asset of assets) expect(asset).toMatch(/^\/docs\/static\//);
      // The page, its styles and the script that starts swagger-ui name no other host (the w3.org
      // in the styles is the SVG namespace inside their data: images); the big bundles are checked
      // by what a browser asks for (openapi-docs.test.ts).
      const texts = [page.body];
      for (const asset of [...assets, '/docs/static/swagger-initializer.js']) {
        const res = await server.inject(asset);
        expect(res.statusCode, asset).toBe(200);
        expect(res.headers['x-content-type-options']).toBe('nosniff');
        if (!/\.png$/.test(asset) && !/bundle|preset/.test(asset)) texts.push(res.body);
      }
      // (A line comment in the initializer links to a Stack Overflow answer: a comment loads nothing.)
      const loads = (text: string): string =>
        text.replace(/http:\/\/www\.w3\.org\/2000\/svg/g, '').replace(/^\s*\/\/.*$/gm, '');
      for (const text of texts) expect(loads(text)).not.toMatch(/https?:\/\//);
      const init = (await server.inject('/docs/static/swagger-initializer.js')).body;
      expect(init).toMatch(/validatorUrl: null/);
      expect((await server.inject('/docs/json')).json()).toEqual((await server.inject('/openapi.json')).json());
    } finally {
      await server.close();
      await app.stop();
      await target.cleanup();
    }
  });
});

describe("a worker's HTTP", () => {
  it('answers its probes by the same schemas and serves no document', async () => {
    const target = await createTarget('sqlite');
    const app = await createApp(target.config(), { logger: createLogger({ level: 'silent' }) });
    const server = buildProbeServer(app);
    try {
      expect((await server.inject('/livez')).json()).toEqual({ status: 'ok' });
      for (const url of ['/openapi.json', '/docs'])
        expect((await server.inject(url)).json()).toMatchObject({ code: 'ETL_HTTP_NOT_FOUND', statusCode: 404 });
    } finally {
      await server.close();
      await app.stop();
      await target.cleanup();
    }
  });
});
