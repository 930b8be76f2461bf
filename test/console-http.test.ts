import type { FastifyInstance } from 'fastify';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createApp, type App } from '../src/app/index.js';
import { csvCell, csvRow } from '../src/http/csv.js';
import { buildServer } from '../src/http/index.js';
import { assessHealth } from '../src/observability/index.js';
import { createLogger } from '../src/observability/logger.js';
import { formatShare } from '../src/util/index.js';
import { FORMULA_KEY, seedLedgerNights, type SeededNight } from './helpers/ledger-nights.js';
import { createTarget, DIALECTS, type Target } from './helpers/targets.js';

const TOKEN = 'console-admin-token-0123456';
const ADMIN = { authorization: `Bearer ${TOKEN}` };
const VIEWER_TOKEN = 'console-viewer-token-0123456';
const VIEWER = { authorization: `Bearer ${VIEWER_TOKEN}` };

describe('formula-safe CSV cells', () => {
  it('defuses every cell a spreadsheet would run, and quotes by RFC 4180', () => {
    for (const start of ['=', '+', '-', '@', '\t', '\r'])
      expect(csvCell(`${start}1+1`).replace(/^"/, '')).toMatch(/^'/);
    expect(csvCell('=SUM(A1,A2)')).toBe(`"'=SUM(A1,A2)"`);
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('ST00001')).toBe('ST00001');
    expect(csvCell(null)).toBe('');
    expect(csvCell(12)).toBe('12');
    expect(csvRow(['a', 1, null])).toBe('a,1,\r\n');
  });
});

describe('shares as percentages', () => {
  it('keep the precision that matters: 289 of 70,000 is 0.4%, not 0%', async () => {
    expect([0, 1 / 70_000, 289 / 70_289, 0.1, 0.5, 1].map(formatShare)).toEqual([
      '0%',
      '0.0014%',
      '0.4%',
      '10.0%',
      '50.0%',
      '100.0%',
    ]);
    // The health line the dashboard shows: degraded by failures, with a small share rejected.
    const run = (status: 'failed' | 'warning', errorRate: number) =>
      ({
        status,
        dryRun: false,
        errorRate,
        durationMs: 1,
        rows: 70_000,
        finishedAt: new Date().toISOString(),
      }) as never;
    const health = assessHealth([run('failed', 0.004), run('warning', 0.004), run('warning', 0.004)]);
    expect(health.status).toBe('degraded');
    expect(health.message).toBe('33.3% of recent runs failed and 0.4% of rows were rejected');
  });
});

describe.each(DIALECTS)("the console's HTTP routes on %s", (dialect) => {
  let target: Target;
  let app: App;
  let server: FastifyInstance;
  let nights: SeededNight[];

  beforeAll(async () => {
    target = await createTarget(dialect);
    // Tokens set: sign-in is on (ETL_AUTH=token), so every read goes as the viewer unless it says otherwise.
    const config = target.config({
      ETL_ADMIN_TOKENS: `ops:${TOKEN}`,
      ETL_VIEWER_TOKENS: `wall:${VIEWER_TOKEN}`,
      ETL_TIMEZONE: 'Australia/Perth',
    });
    app = await createApp(config, {
      logger: createLogger({ level: 'silent' }),
    });
    nights = await seedLedgerNights(app.store, { nights: 60 });
    server = buildServer(app, { trigger: async () => ({ jobId: null, created: true, mode: 'direct' }) });
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await app?.stop();
    await target?.cleanup();
  });

  const get = async (url: string, headers: Record<string, string> = VIEWER) => server.inject({ url, headers });

  it('pages runs by school and status', async () => {
    const page = (await get('/api/cases-etl/console/runs?school=8865&limit=25&offset=25')).json();
    expect(page).toMatchObject({ total: 60, limit: 25, offset: 25 });
    expect(page.items.map((r: { id: number }) => r.id)).toEqual(
      nights
        .map((n) => n.runId)
        .reverse()
        .slice(25, 50),
    );
    const failed = (await get('/api/cases-etl/console/runs?status=failed')).json();
    expect(failed).toMatchObject({ total: 1, limit: 25, offset: 0, items: [{ id: nights[30]?.runId }] });
    expect((await get('/api/cases-etl/console/runs?status=lost')).statusCode).toBe(400);
    expect((await get('/api/cases-etl/console/runs?limit=0')).statusCode).toBe(400);
  });

  it("pages a run's rejects past 100, and 404s an unknown run", async () => {
    const last = nights.at(-1) as SeededNight;
    const third = (await get(`/api/cases-etl/runs/${last.runId}/rejects?limit=100&offset=200`, ADMIN)).json();
    expect(third).toMatchObject({ total: 289, limit: 100, offset: 200 });
    expect(third.items).toHaveLength(89);
    expect(third.items.at(-1)).toMatchObject({ line: 290, key: 'ST00288' });
    expect(JSON.stringify(third)).not.toContain('secret original line');
    expect((await get('/api/cases-etl/runs/999999/rejects')).json()).toMatchObject({ code: 'ETL_RUN_UNKNOWN' });
  });

  it('gives an admin every reject as formula-safe CSV, without original lines, and refuses anyone else', async () => {
    const last = nights.at(-1) as SeededNight;
    const url = `/api/cases-etl/runs/${last.runId}/rejects.csv`;
    expect((await get(url, {})).statusCode).toBe(401);
    expect((await get(url, { authorization: 'Bearer not-the-token-at-all' })).statusCode).toBe(401);
    expect((await get(url)).statusCode).toBe(403);
    const res = await get(url, ADMIN);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="run-${last.runId}-rejects.csv"`);
    expect(res.headers['cache-control']).toBe('no-store');
    const rows = parse(res.body, { relax_column_count: false }) as string[][];
    expect(rows[0]).toEqual(['file', 'line', 'key', 'field', 'code', 'message']);
    expect(rows).toHaveLength(290);
    // The formula key is there, defused: a spreadsheet shows it as text.
    expect(rows[1]).toEqual([
      'ST_8865.csv',
      '2',
      `'${FORMULA_KEY}`,
      'BIRTHDATE',
      'ETL_TYPE_DATE',
      'not a date (line 2)',
    ]);
    expect(rows.slice(1).map((r) => r[2])).toEqual(
      last.rejects.map((r) => (r.key === FORMULA_KEY ? `'${r.key}` : r.key)),
    );
    for (const r of rows.slice(1)) for (const c of r) expect(c).not.toMatch(/^[=+\-@\t\r]/);
    expect(res.body).not.toContain('secret original line');
    expect(res.body.endsWith('\r\n')).toBe(true);
  });

  it("charts a school's last 60 nights from the ledger: runs oldest first, full tables' rows per run", async () => {
    const charts = (await get('/api/cases-etl/console/charts?school=8865')).json();
    expect(charts.maxErrorRate).toBe(0.1);
    // The seeded nights end an hour or two ago: all 60 are in the window.
    const inWindow = nights.filter((n) => n.startedAt.getTime() >= Date.parse(charts.since));
    expect(inWindow).toHaveLength(60);
    expect(charts.runs.map((r: { id: number }) => r.id)).toEqual(inWindow.map((n) => n.runId));
    expect(charts.runs.map((r: { rejected: number }) => r.rejected)).toEqual(inWindow.map((n) => n.outcome.rejected));
    expect(charts.tables.map((t: { table: string }) => t.table)).toEqual(['KCH', 'SF', 'ST']);
    const st = charts.tables[2].points;
    expect(st.map((p: { rows: number }) => p.rows)).toEqual(
      inWindow.map((n) => n.files.find((f) => f.table === 'ST')?.rows),
    );
    expect((await get('/api/cases-etl/console/charts?school=8865&days=3')).json().runs).toHaveLength(3);
    expect((await get('/api/cases-etl/console/charts')).statusCode).toBe(400);
  });

  it('tells the next scheduled run in its time zone, and no queue without Redis', async () => {
    const state = (await get('/api/cases-etl/console/queue')).json();
    expect(state).toMatchObject({
      schedule: { pattern: '0 2 * * *', timezone: 'Australia/Perth', by: 'in-process' },
      queue: null,
      board: null,
    });
    const next = new Date(state.schedule.next);
    expect(next.getTime()).toBeGreaterThan(Date.now());
    expect(next.getTime() - Date.now()).toBeLessThanOrEqual(86_400_000);
    // 02:00 in Perth (UTC+8, no daylight saving) is 18:00 UTC.
    expect(next.getUTCHours()).toBe(18);
    expect(state.schedule.nextLocal).toMatch(/ 02:00 AWST$/);
  });

  it("gives a viewer a run's rejects without their keys, an admin with them, and nobody without a token", async () => {
    const last = nights.at(-1) as SeededNight;
    const url = `/api/cases-etl/runs/${last.runId}/rejects?limit=5`;
    const viewer = (await get(url)).json();
    expect(viewer.items).toHaveLength(5);
    expect(viewer.items.every((r: { key: unknown; code: unknown }) => r.key === null && r.code !== null)).toBe(true);
    const admin = (await get(url, ADMIN)).json();
    expect(admin.items.every((r: { key: unknown }) => typeof r.key === 'string')).toBe(true);
    expect((await get(url, {})).statusCode).toBe(401);
    expect((await get(`/api/cases-etl/runs/${last.runId}/rejects.csv`)).json()).toMatchObject({
      code: 'ETL_AUTH_FORBIDDEN',
    });
  });

  it('serves uPlot from the package itself', async () => {
    const js = await get('/assets/uplot.js');
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    expect(js.body).toContain('uPlot');
    expect((await get('/assets/uplot.css')).headers['content-type']).toMatch(/^text\/css/);
  });
});
