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
import { startIssuer, type Issuer } from './helpers/oidc-issuer.js';
import { createTarget, type Target } from './helpers/targets.js';

/**
 * Signing in to the dashboard in Chromium through a real OpenID Connect flow (authorisation code
 * with PKCE, state and nonce) at an issuer on loopback: a viewer sees runs but cannot roll one
 * back, an admin can.
 */

const CLIENT = 'cases-etl-browser-client';
const ADMINS = 'grp-etl-admins';

describe('signing in to the dashboard (ETL_AUTH=oidc) in Chromium', () => {
  let issuer: Issuer;
  let target: Target;
  let app: App;
  let server: FastifyInstance;
  let base: string;
  let chromium: Browser;
  let runId: number;
  const problems: string[] = [];

  beforeAll(async () => {
    issuer = await startIssuer({
      clientId: CLIENT,
      users: {
        sam: { sub: 'sub-sam', preferred_username: 'sam@school.vic.edu.au', groups: ['grp-teachers'] },
        jo: { sub: 'sub-jo', preferred_username: 'jo@school.vic.edu.au', groups: [ADMINS] },
      },
    });
    target = await createTarget('sqlite');
    const src = join(target.dir, 'export');
    await copySample(src);
    app = await createApp(
      target.config({
        CASES_DIRECTORY: src,
        ETL_OIDC_ISSUER: issuer.url,
        ETL_OIDC_CLIENT_ID: CLIENT,
        ETL_OIDC_ADMIN_GROUPS: ADMINS,
      }),
      { logger: createLogger({ level: 'silent' }) },
    );
    runId = (await runEtl({ config: app.config, store: app.store, layouts: app.layouts })).runId as number;
    server = buildServer(app, { trigger: async () => ({ jobId: null, created: false, mode: 'direct' }) });
    base = await server.listen({ port: 0, host: '127.0.0.1' });
    chromium = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await chromium?.close();
    await server?.close();
    await app?.stop();
    await target?.cleanup();
    await issuer?.close();
  });

  /** A fresh page that reports script errors and requests to anywhere but this server and the issuer. */
  async function newPage(): Promise<Page> {
    const page = await chromium.context.newPage();
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('request', (r) => {
      const url = r.url();
      if (!url.startsWith(base) && !url.startsWith(issuer.url)) problems.push(`request to ${url}`);
    });
    return page;
  }

  /** Opens the dashboard signed out, is sent to the issuer, and signs in there as `user`. */
  async function signIn(page: Page, user: string): Promise<void> {
    await page.goto(`${base}/dashboard`);
    expect(page.url()).toMatch(new RegExp(`^${issuer.url}/authorize\\?`));
    const authorize = new URL(page.url());
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${base}/auth/callback`);
    await page.click(`#as-${user}`);
    await page.waitForURL(`${base}/dashboard`);
    await page.locator('#session', { hasText: 'Signed in as' }).waitFor();
  }

  /** POSTs a dry-run rollback from the page itself, with the session cookie (and the CSRF token when `csrf`). */
  function postRollback(page: Page, csrf: boolean): Promise<{ status: number; code: string }> {
    return page.evaluate(
      async ({ url, csrf }) => {
        const session = (await (await fetch('/api/cases-etl/session')).json()) as { csrfToken: string };
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(csrf ? { 'x-csrf-token': session.csrfToken } : {}) },
          body: JSON.stringify({ dryRun: true }),
        });
        return { status: res.status, code: ((await res.json()) as { code?: string }).code ?? '' };
      },
      { url: `/api/cases-etl/runs/${runId}/rollback`, csrf },
    );
  }

  it('signs a viewer in: runs are shown, rolling back is not offered and is refused (403)', async () => {
    const page = await newPage();
    try {
      await signIn(page, 'sam');
      expect(await page.locator('#session').textContent()).toContain(
        'Signed in as oidc:sam@school.vic.edu.au (viewer)',
      );
      await page.locator(`#runs tr[data-run="${runId}"]`).click();
      await page.locator('#detail-title', { hasText: `Run ${runId} of school 8865` }).waitFor();
      expect(await page.locator('#rollback').isHidden()).toBe(true);
      expect(await postRollback(page, true)).toEqual({ status: 403, code: 'ETL_AUTH_FORBIDDEN' });
      // The session cookie is HttpOnly: no script on the page can read it.
      expect(await page.evaluate('document.cookie')).toBe('');
      const [cookie] = await chromium.context.cookies(base);
      expect(cookie).toMatchObject({ name: 'cases-etl-session', httpOnly: true, sameSite: 'Lax' });

      await page.click('#session a[href="/auth/logout"]');
      await page.locator('text=You are signed out of cases-etl.').waitFor();
      const after = await page.evaluate(async () => (await fetch('/api/cases-etl/runs')).status);
      expect(after).toBe(401);
    } finally {
      await page.close();
    }
    expect((await app.store.getRun(runId))?.status).not.toBe('rolled_back');
  });

  it('signs an admin in: a POST without the CSRF token is refused, the rollback form works', async () => {
    const page = await newPage();
    try {
      await signIn(page, 'jo');
      expect(await page.locator('#session').textContent()).toContain('Signed in as oidc:jo@school.vic.edu.au (admin)');
      expect(await postRollback(page, false)).toEqual({ status: 403, code: 'ETL_AUTH_CSRF' });

      await page.locator(`#runs tr[data-run="${runId}"]`).click();
      await page.locator('#rollback').waitFor({ state: 'visible' });
      // Signed in, no token is typed in.
      expect(await page.locator('#token').isHidden()).toBe(true);
      await page.fill('#reason', 'signed-in rollback');
      await page.click('#plan');
      await page.locator('#rollback-plan', { hasText: `Would undo run ${runId}:` }).waitFor();
      await page.click('#confirm');
      await page.locator('#rollback-result', { hasText: `run ${runId} undone` }).waitFor();
    } finally {
      await page.close();
    }
    expect((await app.store.getRun(runId))?.status).toBe('rolled_back');
    const [rollback] = await app.store.listRollbacks({ limit: 1 });
    expect(rollback).toMatchObject({ targetRunId: runId, requestedBy: 'oidc:jo@school.vic.edu.au' });
    expect(problems).toEqual([]);
  });
});

describe('typing a token into the dashboard (ETL_AUTH=token) in Chromium', () => {
  it('reads with a viewer token, offers no rollback, and forgets the token when asked', async () => {
    const VIEWER = 'browser-viewer-token-0123456789';
    const target = await createTarget('sqlite');
    const src = join(target.dir, 'export');
    await copySample(src);
    const app = await createApp(
      target.config({
        CASES_DIRECTORY: src,
        ETL_ADMIN_TOKENS: 'ops:browser-admin-token-0123456789',
        ETL_VIEWER_TOKENS: `wall:${VIEWER}`,
      }),
      { logger: createLogger({ level: 'silent' }) },
    );
    const server = buildServer(app, { trigger: async () => ({ jobId: null, created: false, mode: 'direct' }) });
    const chromium = await launchChromium();
    try {
      const runId = (await runEtl({ config: app.config, store: app.store, layouts: app.layouts })).runId as number;
      const base = await server.listen({ port: 0, host: '127.0.0.1' });
      const page = await chromium.context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      await page.goto(`${base}/dashboard`);
      // The page loads; its data waits for a token.
      await page.locator('#health', { hasText: 'The API did not answer' }).waitFor();
      await page.fill('#token', VIEWER);
      await page.click('#sign-in-button');
      await page.locator('#who', { hasText: 'Signed in as api:wall (viewer)' }).waitFor();
      await page.locator(`#runs tr[data-run="${runId}"]`).click();
      await page.locator('#detail-title', { hasText: `Run ${runId} of school 8865` }).waitFor();
      expect(await page.locator('#rollback').isHidden()).toBe(true);

      await page.click('#sign-out');
      await page.locator('#who', { hasText: 'Viewing (read only)' }).waitFor();
      expect(await page.evaluate("sessionStorage.getItem('cases-etl-token')")).toBeNull();
      expect(errors).toEqual([]);
    } finally {
      await chromium.close();
      await server.close();
      await app.stop();
      await target.cleanup();
    }
  }, 60_000);
});
