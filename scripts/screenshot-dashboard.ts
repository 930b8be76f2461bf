/**
 * `npx tsx scripts/screenshot-dashboard.ts [out.png]`: the README's picture of the dashboard.
 * Seeds a fresh SQLite ledger with 60 nights of two schools (test/helpers/ledger-nights.ts: the
 * ledger only, no export files), serves it on loopback, and captures the page at 1280×900 with
 * the system Chromium (never a downloaded browser). Writes docs/dashboard.png by default.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { createApp } from '../src/app/index.js';
import { loadConfig } from '../src/config/index.js';
import { buildServer } from '../src/http/index.js';
import { createLogger } from '../src/observability/logger.js';
import { seedLedgerNights } from '../test/helpers/ledger-nights.js';

const out = process.argv[2] ?? fileURLToPath(new URL('../docs/dashboard.png', import.meta.url));
const dir = await mkdtemp(join(tmpdir(), 'cases-etl-screenshot-'));
const app = await createApp(loadConfig({ DATABASE_URL: `sqlite:${join(dir, 'ledger.db')}` }), {
  logger: createLogger({ level: 'silent' }),
});
const server = buildServer(app, { trigger: async () => ({ jobId: null, created: false, mode: 'direct' }) });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' });
try {
  await seedLedgerNights(app.store, { nights: 60 });
  await seedLedgerNights(app.store, { school: '8866', nights: 30, lastNightRejects: 12 });
  const base = await server.listen({ port: 0, host: '127.0.0.1' });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${base}/dashboard`);
  await page.locator('#chart-tables[data-points="60"] canvas').waitFor();
  // The charts (the schools table, the next run and the queue are above them).
  await page.evaluate(`window.scrollTo(0, document.getElementById('charts-title').offsetTop - 8)`);
  await page.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await server.close();
  await app.stop();
  await rm(dir, { recursive: true, force: true });
}
