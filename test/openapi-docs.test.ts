import { join } from 'node:path';

import type { FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createApp, type App } from '../src/app/index.js';
import { buildServer } from '../src/http/index.js';
import { createLogger } from '../src/observability/logger.js';
import { runEtl } from '../src/pipeline/index.js';
import { launchChromium, type Browser } from './helpers/chromium.js';
import { copySample } from './helpers/nights.js';
import { createTarget, type Target } from './helpers/targets.js';

/**
 * /docs in a real browser, as a school's server with no way out would show it: swagger-ui draws
 * every route from /openapi.json, under the docs' CSP (scripts and styles from this server only),
 * asking nothing of any other host, and "Try it out" reaches the API.
 */
describe('/docs in a real browser', () => {
  let target: Target;
  let app: App;
  let server: FastifyInstance;
  let base: string;
  let chromium: Browser;
  let page: Page;
  const problems: string[] = [];
  const requests: string[] = [];

  beforeAll(async () => {
    target = await createTarget('sqlite');
    const src = join(target.dir, 'export');
    await copySample(src);
    app = await createApp(target.config({ CASES_DIRECTORY: src }), { logger: createLogger({ level: 'silent' }) });
    await runEtl({ config: app.config, store: app.store, layouts: app.layouts });
    server = buildServer(app, { trigger: async () => ({ jobId: null, created: false, mode: 'direct' }) });
    base = await server.listen({ port: 0, host: '127.0.0.1' });
    chromium = await launchChromium();
    page = await chromium.context.newPage();
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    // A CSP refusal is a console error ("Refused to load/apply/execute …").
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    page.on('request', (r) => requests.push(r.url()));
  }, 60_000);

  afterAll(async () => {
    await chromium?.close();
    await server?.close();
    await app?.stop();
    await target?.cleanup();
  });

  it('draws every documented route from the app alone, with no CSP refusal', async () => {
    const res = await page.goto(`${base}/docs`);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-security-policy']).toMatch(/script-src 'self';.*style-src 'self';/);
    await page.locator('.swagger-ui .info .title', { hasText: 'cases-etl' }).waitFor();
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, object> };
    for (const path of Object.keys(doc.paths))
      await page
        .locator('.opblock-summary-path', { hasText: new RegExp(`^${path.replace(/[{}]/g, '\\$&')}$`) })
        .first()
        .waitFor();
    // The admin routes show their lock; the scheme is offered by the Authorize button.
    expect(await page.locator('.opblock .authorization__btn').count()).toBeGreaterThanOrEqual(4);
    await page.locator('.btn.authorize').click();
    await page.locator('.auth-container', { hasText: 'adminToken' }).waitFor();
    await page.locator('.auth-btn-wrapper .btn-done').click();
    // Every operation opened (its parameters, responses and models drawn, icons included), then closed.
    for (const summary of await page.locator('.opblock-summary').all()) await summary.click();
    await page
      .locator('.opblock.is-open')
      .nth(Object.keys(doc.paths).length - 1)
      .waitFor();
    for (const summary of await page.locator('.opblock-summary').all()) await summary.click();

    expect(requests.length).toBeGreaterThan(4);
    expect(requests.filter((u) => !u.startsWith(base) && !u.startsWith('data:'))).toEqual([]);
    expect(problems).toEqual([]);
  });

  it('runs "Try it out" against the API from the page', async () => {
    const block = page.locator('.opblock', { has: page.locator('.opblock-summary-path', { hasText: /^\/livez$/ }) });
    await block.locator('.opblock-summary').click();
    await block.locator('button.try-out__btn').click();
    await block.locator('button.execute').click();
    await block.locator('.live-responses-table .response-col_status', { hasText: '200' }).first().waitFor();
    expect(await block.locator('.live-responses-table .microlight').first().textContent()).toContain('"ok"');
    expect(requests).toContain(`${base}/livez`);
    expect(problems).toEqual([]);
  });
});
