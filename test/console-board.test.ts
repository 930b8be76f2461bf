import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createApp, type App } from '../src/app/index.js';
import { buildServer } from '../src/http/index.js';
import { QUEUES_BOARD_CSP } from '../src/http/queues-board.js';
import { createLogger } from '../src/observability/logger.js';
import { launchChromium, type Browser } from './helpers/chromium.js';
import { closedPort } from './helpers/children.js';
import { jobApp, obliterate, uniquePrefix } from './helpers/jobs.js';
import { createTarget, type Target } from './helpers/targets.js';

const TOKEN = 'console-board-token-0123456';
const ADMIN = { authorization: `Bearer ${TOKEN}` };

describe('Bull Board at /admin/queues, and the queue on the dashboard, with Redis', () => {
  const prefix = uniquePrefix();
  let target: Target;
  let app: App;
  let server: FastifyInstance;
  let base: string;
  let chromium: Browser;

  beforeAll(async () => {
    target = await createTarget('sqlite');
    app = await jobApp(target, { ETL_QUEUE_PREFIX: prefix, ETL_ADMIN_TOKENS: `ops:${TOKEN}`, ETL_AUTH: 'none' });
    server = buildServer(app, { trigger: async () => ({ jobId: 'job-1', created: true, mode: 'queue' }) });
    base = await server.listen({ port: 0, host: '127.0.0.1' });
    chromium = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await chromium?.close();
    await server?.close();
    await app?.stop();
    await obliterate(prefix);
    await target?.cleanup();
  });

  it('answers only an admin: its page, its API and its files', async () => {
    const page = await server.inject({ url: '/admin/queues' });
    expect(page.statusCode).toBe(401);
    expect(page.json()).toMatchObject({ code: 'ETL_HTTP_UNAUTHORIZED' });
    expect((await server.inject({ url: '/admin/queues', headers: { authorization: 'Bearer wrong' } })).statusCode).toBe(
      401,
    );

    const admin = await server.inject({ url: '/admin/queues', headers: ADMIN });
    expect(admin.statusCode).toBe(200);
    expect(admin.headers['content-type']).toMatch(/^text\/html/);
    expect(admin.headers['content-security-policy']).toBe(QUEUES_BOARD_CSP);
    expect(QUEUES_BOARD_CSP).toContain("script-src 'self';");
    expect(admin.headers['cache-control']).toBe('no-store');
    // Its one outside address, a Google Fonts stylesheet, is taken out of the page.
    expect(admin.body).not.toMatch(/https?:\/\//);
    expect(admin.body).toContain('<base href="/admin/queues/"');

    const api = '/admin/queues/api/queues';
    expect((await server.inject({ url: api })).statusCode).toBe(401);
    const queues = await server.inject({ url: api, headers: ADMIN });
    expect(queues.statusCode).toBe(200);
    expect(queues.json().queues.map((q: { name: string }) => q.name)).toEqual(['cases-etl']);

    const script = /<script defer="defer" src="([^"]+)"|<script defer src="([^"]+)"/.exec(admin.body);
    const file = `/admin/queues/${script?.[1] ?? script?.[2]}`;
    expect(file).toMatch(/\/static\/js\/.+\.js$/);
    expect((await server.inject({ url: file })).statusCode).toBe(401);
    expect((await server.inject({ url: file, headers: ADMIN })).statusCode).toBe(200);
  });

  it('loads in Chromium for an admin, asking nothing of any other host, and is refused without the token', async () => {
    const page = await chromium.context.newPage();
    const elsewhere: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => !r.url().startsWith(base) && elsewhere.push(r.url()));
    page.on('pageerror', (e) => errors.push(e.message));
    // Anything its policy refused, once the page is the admin's (the 401 before it is meant).
    page.on('console', (m) => m.type() === 'error' && !/status of 401/.test(m.text()) && errors.push(m.text()));
    try {
      const refused = await page.goto(`${base}/admin/queues`);
      expect(refused?.status()).toBe(401);

      await page.setExtraHTTPHeaders(ADMIN);
      const res = await page.goto(`${base}/admin/queues`);
      expect(res?.status()).toBe(200);
      // The board's React app drew the queue from its API.
      await page.getByText('cases-etl', { exact: true }).first().waitFor({ timeout: 20_000 });
      expect(elsewhere).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('shows the queue by state on the dashboard, and links the board, which opens for an admin signed in with a token', async () => {
    await app.queue?.add('nightly', { trigger: 'manual' }, { delay: 3_600_000, jobId: 'later' });
    const state = (await server.inject('/api/cases-etl/console/queue')).json();
    expect(state).toMatchObject({
      schedule: { by: 'queue', timezone: 'Australia/Melbourne' },
      queue: { waiting: 0, active: 0, delayed: 1, failed: 0 },
      unavailable: null,
      board: '/admin/queues',
    });

    const page = await chromium.context.newPage();
    try {
      await page.goto(`${base}/dashboard`);
      await page.locator('#queue-delayed', { hasText: '1' }).waitFor();
      expect(await page.locator('#board-link').isVisible()).toBe(false);
      await page.fill('#token', TOKEN);
      await page.click('#sign-in-button');
      await page.locator('#board-link').waitFor({ state: 'visible' });
      expect(await page.locator('#board-link').getAttribute('href')).toBe('/admin/queues');
      // A link cannot carry the token: signing in set this browser's cookie, so the board opens.
      await page.click('#board-link');
      await page.waitForURL(`${base}/admin/queues`);
      await page.getByText('cases-etl', { exact: true }).first().waitFor({ timeout: 20_000 });
      // Signed out, the cookie is gone and the board refuses.
      await page.goto(`${base}/dashboard`);
      await page.locator('#sign-out').click();
      await page.locator('#who', { hasText: 'Viewing (read only)' }).waitFor();
      expect((await page.goto(`${base}/admin/queues`))?.status()).toBe(401);
    } finally {
      await page.close();
    }
  });
});

describe('the queue on the dashboard while Redis is down', () => {
  it('answers at once with the schedule and why the queue is not shown', async () => {
    const target = await createTarget('sqlite');
    const port = await closedPort();
    const app = await createApp(target.config({ REDIS_URL: `redis://127.0.0.1:${port}` }), {
      logger: createLogger({ level: 'silent' }),
    });
    const server = buildServer(app, { trigger: async () => ({ jobId: null, created: false, mode: 'queue' }) });
    try {
      const started = Date.now();
      const state = (await server.inject('/api/cases-etl/console/queue')).json();
      expect(Date.now() - started).toBeLessThan(1500);
      expect(state).toMatchObject({
        schedule: { by: 'queue', pattern: '0 2 * * *' },
        queue: null,
        unavailable: expect.stringMatching(/^Redis is unavailable \(connection \w+\)$/),
        board: '/admin/queues',
      });
      expect(state.schedule.next).not.toBeNull();
    } finally {
      await server.close();
      await app.stop();
      await target.cleanup();
    }
  });
});
