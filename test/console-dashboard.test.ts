import { readFile } from 'node:fs/promises';

import { parse } from 'csv-parse/sync';
import type { FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createApp, type App } from '../src/app/index.js';
import { buildServer } from '../src/http/index.js';
import { createLogger } from '../src/observability/logger.js';
import { launchChromium, type Browser } from './helpers/chromium.js';
import { FORMULA_KEY, seedLedgerNights, type SeededNight } from './helpers/ledger-nights.js';
import { createTarget, type Target } from './helpers/targets.js';

const TOKEN = 'console-browser-token-0123';

interface ChartData {
  runs: number[];
  series: Record<string, Array<number | null>>;
}

describe('the operator console in a real browser', () => {
  let target: Target;
  let app: App;
  let server: FastifyInstance;
  let base: string;
  let chromium: Browser;
  let nights: SeededNight[];
  let other: SeededNight[];
  const triggered: Array<{ school: string | null; force: boolean; requestedBy: string }> = [];
  const problems: string[] = [];
  /** Bytes of every script the pages loaded, by URL. */
  const scripts = new Map<string, number>();

  beforeAll(async () => {
    target = await createTarget('sqlite');
    app = await createApp(target.config({ ETL_ADMIN_TOKENS: `ops:${TOKEN}`, ETL_AUTH: 'none' }), {
      logger: createLogger({ level: 'silent' }),
    });
    nights = await seedLedgerNights(app.store, { nights: 60 });
    other = await seedLedgerNights(app.store, { school: '1234', nights: 3, lastNightRejects: 5 });
    server = buildServer(app, {
      trigger: async (input) => {
        triggered.push(input);
        return { jobId: null, created: true, mode: 'direct' };
      },
    });
    base = await server.listen({ port: 0, host: '127.0.0.1' });
    chromium = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await chromium?.close();
    await server?.close();
    await app?.stop();
    await target?.cleanup();
  });

  async function open(width = 1280): Promise<Page> {
    const page = await chromium.context.newPage();
    await page.setViewportSize({ width, height: 900 });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on(
      'console',
      (m) => m.type() === 'error' && !/status of 401/.test(m.text()) && problems.push(`console: ${m.text()}`),
    );
    page.on(
      'request',
      (r) => !r.url().startsWith(base) && !r.url().startsWith('blob:') && problems.push(`request to ${r.url()}`),
    );
    page.on('response', async (r) => {
      if (r.request().resourceType() === 'script') scripts.set(r.url(), (await r.body()).length);
    });
    await page.goto(`${base}/dashboard`);
    await page.locator('#chart-rows[data-points] canvas').waitFor();
    return page;
  }

  // (Page code as strings: the tests are compiled without the DOM's types.)
  const chart = (page: Page, name: string): Promise<ChartData> =>
    page.evaluate<ChartData>(`window.__charts[${JSON.stringify(name)}]`);

  it("draws the chosen school's 60 nights from the ledger: rows, changes, rejects against the limit, durations, tables", async () => {
    const page = await open();
    try {
      const since = Date.now() - 60 * 86_400_000;
      const shown = nights.filter((n) => n.startedAt.getTime() >= since);
      expect(shown).toHaveLength(60);
      const ids = shown.map((n) => n.runId);
      // The first school (1234) is drawn first; 8865 is chosen by its labelled select.
      await page.selectOption('#chart-school', '8865');
      await page.locator(`#chart-rows[data-points="${shown.length}"]`).waitFor();

      const rows = await chart(page, 'rows');
      expect(rows).toEqual({ runs: ids, series: { Rows: shown.map((n) => n.outcome.rows) } });
      const changes = await chart(page, 'changes');
      // The failed night published nothing: no changes drawn for it.
      const done = (n: SeededNight, v: number): number | null => (n.outcome.status === 'failed' ? null : v);
      expect(changes.series.Inserted).toEqual(shown.map((n) => done(n, n.outcome.inserted)));
      expect(changes.series.Held).toEqual(shown.map((n) => done(n, n.outcome.held)));
      expect(changes.series.Inserted).toContain(null);
      const errors = await chart(page, 'errors');
      expect(errors.series.Rejected).toEqual(shown.map((n) => n.outcome.rejected));
      expect(errors.series['Error rate %']).toEqual(shown.map((n) => n.outcome.errorRate * 100));
      expect(errors.series['Limit %']).toEqual(shown.map(() => 10));
      const duration = await chart(page, 'duration');
      const seconds = shown.map((n) => (n.outcome.finishedAt.getTime() - n.startedAt.getTime()) / 1000);
      duration.series.Seconds?.forEach((s, i) => expect(Math.abs((s ?? 0) - (seconds[i] ?? 0))).toBeLessThan(0.01));
      const tables = await chart(page, 'tables');
      expect(Object.keys(tables.series)).toEqual(['KCH', 'SF', 'ST']);
      expect(tables.series.SF).toEqual(shown.map((n) => n.files.find((f) => f.table === 'SF')?.rows));
      // SF lost more than a tenth of its rows over the last nights: named under the chart.
      expect(await page.locator('#shrinking').textContent()).toMatch(/^Shrinking: SF: \d+ rows, [\d.]+% below \d+\.$/);

      // Back to the other school's.
      await page.selectOption('#chart-school', '1234');
      await page.locator('#chart-rows[data-points="3"]').waitFor();
      expect((await chart(page, 'rows')).runs).toEqual(other.map((n) => n.runId));
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('pages and filters the runs, links each run, and pages its rejects past 100 with the precision that matters', async () => {
    const page = await open();
    try {
      const runIds = async (): Promise<number[]> =>
        (
          await page.locator('#runs tbody tr.run').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-run')))
        ).map(Number);
      const all = [...nights, ...other].map((n) => n.runId).reverse();
      await page.locator('#runs-range', { hasText: '1–25 of 63 runs' }).waitFor();
      expect(await runIds()).toEqual(all.slice(0, 25));
      expect(await page.locator('#runs-prev').isDisabled()).toBe(true);
      await page.click('#runs-next');
      await page.locator('#runs-range', { hasText: '26–50 of 63 runs' }).waitFor();
      expect(await runIds()).toEqual(all.slice(25, 50));
      await page.click('#runs-next');
      await page.locator('#runs-range', { hasText: '51–63 of 63 runs' }).waitFor();
      expect(await page.locator('#runs-next').isDisabled()).toBe(true);

      await page.selectOption('#filter-school', '1234');
      await page.locator('#runs-range', { hasText: '1–3 of 3 runs' }).waitFor();
      expect(await runIds()).toEqual(other.map((n) => n.runId).reverse());
      await page.selectOption('#filter-school', '8865');
      await page.selectOption('#filter-status', 'failed');
      await page.locator('#runs-range', { hasText: '1–1 of 1 runs' }).waitFor();
      expect(await runIds()).toEqual([nights[30]?.runId]);
      await page.selectOption('#filter-status', 'rolled_back');
      await page.locator('#runs-range', { hasText: 'No runs.' }).waitFor();

      // A visible link to each run, reached and followed with the keyboard.
      await page.selectOption('#filter-status', 'warning');
      const last = nights.at(-1) as SeededNight;
      const link = page.locator(`#runs a[href="#run=${last.runId}"]`);
      await link.waitFor();
      expect(await link.textContent()).toBe(String(last.runId));
      await link.focus();
      await page.keyboard.press('Enter');
      await page.locator('#detail-title', { hasText: `Run ${last.runId} of school 8865` }).waitFor();
      // 289 of 70,289 read is 0.41%: shown as 0.4%, not 0%.
      expect(await page.locator('#detail-summary').textContent()).toContain('289 rejected (0.4%)');
      const shares = await page.evaluate<string[]>(
        `import('/dashboard/format.js').then((f) => [0, 1 / 70000, 289 / 70289, 0.1, 0.5].map(f.percent))`,
      );
      expect(shares).toEqual(['0%', '0.0014%', '0.4%', '10.0%', '50.0%']);

      await page.locator('#rejects-range', { hasText: '1–100 of 289 rejected rows' }).waitFor();
      expect(await page.locator('#rejects tbody tr').count()).toBe(100);
      expect(await page.locator('#rejects tbody tr').first().locator('td').nth(2).textContent()).toBe(FORMULA_KEY);
      await page.click('#rejects-next');
      await page.locator('#rejects-range', { hasText: '101–200 of 289' }).waitFor();
      await page.click('#rejects-next');
      await page.locator('#rejects-range', { hasText: '201–289 of 289' }).waitFor();
      expect(await page.locator('#rejects tbody tr').count()).toBe(89);
      expect(await page.locator('#rejects tbody tr').last().locator('td').nth(1).textContent()).toBe('290');
      expect(await page.locator('#rejects-next').isDisabled()).toBe(true);
      expect(await page.locator('body').textContent()).not.toContain('secret original line');
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('shows the next run and, for an admin only, Run now and the rejects as formula-safe CSV', async () => {
    const page = await open();
    try {
      expect(await page.locator('#next-run').textContent()).toMatch(/^\d{4}-\d\d-\d\d 02:00 AE[DS]T$/);
      expect(await page.locator('#next-run-zone').textContent()).toContain('Australia/Melbourne');
      expect(await page.locator('#no-queue').isVisible()).toBe(true);
      const last = nights.at(-1) as SeededNight;
      await page.goto(`${base}/dashboard#run=${last.runId}`);
      await page.locator('#rejects-range', { hasText: 'of 289' }).waitFor();
      for (const id of ['#run-now', '#rejects-csv', '#rollback', '#board-link'])
        expect(await page.locator(id).isVisible(), id).toBe(false);

      await page.fill('#token', TOKEN);
      await page.click('#sign-in-button');
      await page.locator('#who', { hasText: 'Signed in as api:ops (admin)' }).waitFor();
      await page.locator('#rejects-csv').waitFor({ state: 'visible' });
      // No Redis here: no queue board to link to.
      expect(await page.locator('#board-link').isVisible()).toBe(false);

      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#rejects-csv')]);
      expect(download.suggestedFilename()).toBe(`run-${last.runId}-rejects.csv`);
      const rows = parse(await readFile((await download.path()) as string, 'utf8')) as string[][];
      expect(rows).toHaveLength(290);
      expect(rows[1]?.[2]).toBe(`'${FORMULA_KEY}`);

      await page.selectOption('#run-now-school', '1234');
      await page.check('#run-now-force');
      await page.click('#run-now button[type=submit]');
      await page.locator('#run-now-result', { hasText: 'Started on this server.' }).waitFor();
      expect(triggered).toEqual([{ school: '1234', force: true, requestedBy: 'api:ops' }]);

      await page.click('#sign-out');
      await page.locator('#rejects-csv').waitFor({ state: 'hidden' });
      expect(await page.locator('#run-now').isVisible()).toBe(false);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('is readable at 400 px: no sideways scroll, every control labelled, charts within the width', async () => {
    const page = await open(400);
    try {
      const last = nights.at(-1) as SeededNight;
      await page.fill('#token', TOKEN);
      await page.click('#sign-in-button');
      await page.locator('#who', { hasText: 'Signed in as api:ops' }).waitFor();
      await page.click(`#runs a[href="#run=${last.runId}"]`);
      await page.locator('#rejects-range', { hasText: 'of 289' }).waitFor();
      const widths = await page.evaluate<{ page: number; view: number; charts: number[] }>(`({
        page: document.documentElement.scrollWidth,
        view: document.documentElement.clientWidth,
        charts: [...document.querySelectorAll('.plot canvas')].map((c) => c.getBoundingClientRect().right),
      })`);
      expect(widths.view).toBeLessThanOrEqual(400);
      expect(widths.page).toBeLessThanOrEqual(widths.view);
      expect(widths.charts.length).toBe(5);
      for (const right of widths.charts) expect(right).toBeLessThanOrEqual(widths.view);
      // Every form control has a label a screen reader reads out.
      const unlabelled = await page.evaluate<string[]>(`[...document.querySelectorAll('input, select, button')]
        .filter((el) => !(el.labels && el.labels.length > 0) && !el.getAttribute('aria-label') && !el.textContent.trim())
        .map((el) => el.outerHTML.slice(0, 80))`);
      expect(unlabelled).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('loads under 300 KB of script, all of it from this server', () => {
    const urls = [...scripts.keys()].map((u) => new URL(u).pathname).sort();
    expect(urls).toEqual([
      '/assets/uplot.js',
      '/dashboard/api.js',
      '/dashboard/app.js',
      '/dashboard/charts.js',
      '/dashboard/format.js',
    ]);
    const total = [...scripts.values()].reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(50_000);
    expect(total).toBeLessThan(300 * 1024);
  });
});
