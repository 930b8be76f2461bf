import { join } from 'node:path';

import type { FastifyInstance } from 'fastify';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createApp, type App } from '../src/app/index.js';
import { buildServer } from '../src/http/index.js';
import { createLogger } from '../src/observability/logger.js';
import { runEtl } from '../src/pipeline/index.js';
import { launchChromium, type Browser } from './helpers/chromium.js';
import { copySample, editCsv, readCsv } from './helpers/nights.js';
import { createTarget, type Target } from './helpers/targets.js';

const TOKEN = 'dashboard-admin-token-0123';

describe('the dashboard in a real browser', () => {
  let target: Target;
  let app: App;
  let server: FastifyInstance;
  let base: string;
  let browser: BrowserContext;
  let page: Page;
  let chromium: Browser;
  let src: string;
  const problems: string[] = [];
  let firstRun: number;
  let secondRun: number;

  beforeAll(async () => {
    target = await createTarget('sqlite');
    src = join(target.dir, 'export');
    await copySample(src);
    // ETL_AUTH=none: reads open and the token for admin routes only (token mode: auth-roles.test.ts).
    app = await createApp(target.config({ CASES_DIRECTORY: src, ETL_ADMIN_TOKENS: `ops:${TOKEN}`, ETL_AUTH: 'none' }), {
      logger: createLogger({ level: 'silent' }),
    });
    firstRun = (await runEtl({ config: app.config, store: app.store, layouts: app.layouts })).runId as number;
    await editCsv(join(src, 'ST_8865.csv'), (rows, col) =>
      rows.map((r, i) => (i === 2 || i === 9 ? Object.assign([...r], { [col('BIRTHDATE')]: 'whenever' }) : r)),
    );
    secondRun = (await runEtl({ config: app.config, store: app.store, layouts: app.layouts })).runId as number;
    server = buildServer(app, { trigger: async () => ({ jobId: null, created: false, mode: 'direct' }) });
    base = await server.listen({ port: 0, host: '127.0.0.1' });
    chromium = await launchChromium();
    browser = chromium.context;
    page = await browser.newPage();
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    // Chromium logs every 4xx answer as a console error; the wrong-token refusal is meant.
    page.on(
      'console',
      (m) => m.type() === 'error' && !/status of 401/.test(m.text()) && problems.push(`console: ${m.text()}`),
    );
    // Anything the page asks of another host is a leak (and these tests stay on loopback).
    page.on('request', (r) => !r.url().startsWith(base) && problems.push(`request to ${r.url()}`));
  }, 60_000);

  afterAll(async () => {
    await chromium?.close();
    await server?.close();
    await app?.stop();
    await target?.cleanup();
  });

  it("shows each school and the recent runs, with a run's files and rejects, and no personal data", async () => {
    const res = await page.goto(`${base}/`);
    expect(res?.url()).toBe(`${base}/dashboard`);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.locator('#schools tbody tr').first().waitFor();
    expect(await page.locator('#health').textContent()).toMatch(/^(healthy|degraded): /);
    const school = page.locator('#schools tbody tr').first();
    expect(await school.locator('td').allTextContents()).toEqual(
      expect.arrayContaining(['8865', String(secondRun), 'warning']),
    );
    expect(await page.locator('#runs tbody tr.run').count()).toBe(2);

    await page.locator(`#runs tr[data-run="${secondRun}"]`).click();
    await page.locator('#detail-title', { hasText: `Run ${secondRun} of school 8865` }).waitFor();
    expect(await page.locator('#detail-summary').textContent()).toContain('warning');
    // The run has an address of its own, which a notification's "View run" link opens.
    expect(new URL(page.url()).hash).toBe(`#run=${secondRun}`);
    const linked = await browser.newPage();
    try {
      await linked.goto(`${base}/dashboard#run=${firstRun}`);
      await linked.locator('#detail-title', { hasText: `Run ${firstRun} of school 8865` }).waitFor();
    } finally {
      await linked.close();
    }
    expect(await page.locator('#files tbody tr').count()).toBe(16);
    const rejects = page.locator('#rejects tbody tr');
    expect(await rejects.count()).toBe(2);
    expect(await rejects.first().locator('td').allTextContents()).toEqual([
      'ST_8865.csv',
      '4',
      expect.any(String),
      'BIRTHDATE',
      expect.stringMatching(/^ETL_/),
      expect.any(String),
    ]);

    const text = (await page.locator('body').textContent()) ?? '';
    const st = await readCsv(join(src, 'ST_8865.csv'));
    const surnames = [
      ...new Set(st.rows.map((r) => r[st.header.indexOf('SURNAME')]).filter((v): v is string => !!v && v.length >= 3)),
    ];
    expect(surnames.length).toBeGreaterThan(50);
    for (const s of surnames) expect(text.includes(s), `${s} on the page`).toBe(false);
    expect(text).not.toContain('whenever');
    expect(problems).toEqual([]);
  });

  it('rolls the selected run back: refused with a wrong token, planned, then done', async () => {
    await page.locator(`#runs tr[data-run="${secondRun}"]`).click();
    await page.locator('#detail-title', { hasText: `Run ${secondRun} of school 8865` }).waitFor();
    // Rolling back is an admin's: the form shows only once the server accepted the token.
    expect(await page.locator('#rollback').isVisible()).toBe(false);
    await page.fill('#token', 'not-the-right-token-at-all');
    await page.click('#sign-in-button');
    await page.locator('#who.error', { hasText: 'That token was not accepted.' }).waitFor();
    expect(await page.locator('#rollback').isVisible()).toBe(false);
    expect((await app.store.getRun(secondRun))?.status).toBe('warning');

    await page.fill('#token', TOKEN);
    await page.click('#sign-in-button');
    await page.locator('#who', { hasText: 'Signed in as api:ops (admin)' }).waitFor();
    await page.locator('#rollback').waitFor({ state: 'visible' });
    await page.fill('#reason', 'rejected birth dates');
    await page.click('#plan');
    await page.locator('#rollback-plan', { hasText: `Would undo run ${secondRun}:` }).waitFor();
    expect((await app.store.getRun(secondRun))?.status).toBe('warning');
    await page.click('#confirm');
    await page.locator('#rollback-result', { hasText: `run ${secondRun} undone` }).waitFor();
    await page.locator(`#runs tr[data-run="${secondRun}"] td.status`, { hasText: 'rolled_back' }).waitFor();
    // A rolled-back run offers no rollback.
    await page.locator('#rollback').waitFor({ state: 'hidden' });

    expect((await app.store.getRun(secondRun))?.status).toBe('rolled_back');
    expect((await app.store.getRun(firstRun))?.status).toBe('succeeded');
    const [rollback] = await app.store.listRollbacks({ limit: 1 });
    expect(rollback).toMatchObject({ targetRunId: secondRun, requestedBy: 'api:ops', reason: 'rejected birth dates' });
    expect(problems).toEqual([]);
  });
});
