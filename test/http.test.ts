import { join } from 'node:path';

import type { Queue } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { buildAppServer, createApp, type App } from '../src/app/index.js';
import { createLogger } from '../src/observability/logger.js';
import { runEtl } from '../src/pipeline/index.js';
import { jobApp, obliterate, uniquePrefix } from './helpers/jobs.js';
import { copySample, editCsv } from './helpers/nights.js';
import { createTarget, type Target } from './helpers/targets.js';

const TOKEN = 'a-long-admin-token-for-tests';

describe('HTTP API', () => {
  let target: Target;
  let app: App;
  let prefix: string;
  let src: string;

  beforeEach(async () => {
    target = await createTarget('sqlite');
    prefix = uniquePrefix();
    src = join(target.dir, 'export');
    await copySample(src);
    // ETL_AUTH=none: reads open and the token for admin routes only (token mode: auth-roles.test.ts).
    app = await jobApp(target, {
      CASES_DIRECTORY: src,
      ETL_QUEUE_PREFIX: prefix,
      ETL_ADMIN_TOKENS: `ops:${TOKEN}`,
      ETL_AUTH: 'none',
    });
  });
  afterEach(async () => {
    await app.stop();
    await obliterate(prefix);
    await target.cleanup();
  });

  // The server as serve builds it: a trigger queues a run on the app's queue.
  const server = () => buildAppServer(app);

  it('answers liveness and readiness, checking the database and Redis', async () => {
    const s = server();
    expect((await s.inject({ method: 'GET', url: '/livez' })).json()).toEqual({ status: 'ok' });
    const ready = await s.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', checks: { database: 'ok', redis: 'ok' } });
    app.redis?.disconnect();
    const down = await s.inject({ method: 'GET', url: '/readyz' });
    expect(down.statusCode).toBe(503);
    expect(down.json().checks.redis).not.toBe('ok');
  });

  it("reports health and metrics from recent runs, in the seed's shape", async () => {
    const s = server();
    expect((await s.inject({ method: 'GET', url: '/api/cases-etl/health' })).json()).toMatchObject({
      status: 'healthy',
      message: 'no runs yet',
    });
    await runEtl({ config: app.config, store: app.store, layouts: app.layouts });
    const healthy = (await s.inject({ method: 'GET', url: '/api/cases-etl/health' })).json();
    expect(healthy).toMatchObject({
      status: 'healthy',
      message: 'ETL running normally',
      metrics: { runs: 1, failureRate: 0, errorRate: 0 },
    });
    await editCsv(join(src, 'ST_8865.csv'), (rows, col) =>
      rows.map((r) => Object.assign([...r], { [col('BIRTHDATE')]: 'x' })),
    );
    await runEtl({ config: app.config, store: app.store, layouts: app.layouts });
    await runEtl({ config: app.config, store: app.store, layouts: app.layouts, force: false });
    const health = (await s.inject({ method: 'GET', url: '/api/cases-etl/health' })).json();
    expect(health.status).toBe('unhealthy');
    const metrics = (await s.inject({ method: 'GET', url: '/api/cases-etl/metrics' })).json();
    expect(metrics.recent).toHaveLength(3);
    expect(metrics.average).toMatchObject({ runs: 3 });
    expect(JSON.stringify(metrics)).not.toMatch(/NGUYEN|WALKER|BIRTHDATE/);
    const runs = await s.inject({ method: 'GET', url: '/api/cases-etl/runs?limit=2' });
    expect(runs.json()).toHaveLength(2);
    expect((await s.inject({ method: 'GET', url: '/api/cases-etl/runs?limit=0' })).statusCode).toBe(400);
  });

  it('triggers a run only with an admin token', async () => {
    const s = server();
    expect(
      (await s.inject({ method: 'POST', url: '/api/cases-etl/trigger', payload: { school: '8865' } })).statusCode,
    ).toBe(401);
    expect(
      (
        await s.inject({
          method: 'POST',
          url: '/api/cases-etl/trigger',
          headers: { authorization: 'Bearer wrong-token-wrong-token' },
          payload: { school: '8865' },
        })
      ).statusCode,
    ).toBe(401);
    const ok = await s.inject({
      method: 'POST',
      url: '/api/cases-etl/trigger',
      headers: { authorization: `Bearer ${TOKEN}` },
      payload: { school: '8865' },
    });
    expect(ok.statusCode).toBe(202);
    expect(ok.json()).toMatchObject({ created: true, mode: 'queue' });
    expect(await (app.queue as Queue).getWaitingCount()).toBe(1);
    const bad = await s.inject({
      method: 'POST',
      url: '/api/cases-etl/trigger',
      headers: { authorization: `Bearer ${TOKEN}` },
      payload: { school: '88/65' },
    });
    expect(bad.statusCode).toBe(400);
  });

  it('shows a run with its files and rejects, never their original lines', async () => {
    const s = server();
    await editCsv(join(src, 'ST_8865.csv'), (rows, col) =>
      rows.map((r, i) => (i === 4 ? Object.assign([...r], { [col('BIRTHDATE')]: 'someday' }) : r)),
    );
    const run = await runEtl({ config: app.config, store: app.store, layouts: app.layouts });
    const res = await s.inject({ method: 'GET', url: `/api/cases-etl/runs/${run.runId}` });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.run).toMatchObject({ id: run.runId, status: 'warning', rejected: 1, held: 1, deferred: 0 });
    expect(body.files).toHaveLength(16);
    expect(body.files.find((f: { fileName: string }) => f.fileName === 'ST_8865.csv')).toMatchObject({
      table: 'ST',
      mode: 'full',
      rejected: 1,
      rows: 199,
      held: 1,
      deferred: 0,
    });
    expect(body.rejects).toEqual([
      {
        file: 'ST_8865.csv',
        line: 6,
        key: expect.any(String),
        field: 'BIRTHDATE',
        code: expect.stringMatching(/^ETL_/),
        message: expect.any(String),
      },
    ]);
    expect(res.body).not.toContain('someday');
    expect((await s.inject({ method: 'GET', url: '/api/cases-etl/runs/999999' })).statusCode).toBe(404);
    expect((await s.inject({ method: 'GET', url: '/api/cases-etl/runs/abc' })).statusCode).toBe(400);
  });

  it('rolls a run back with an admin token, a dry run first, and refuses to do it twice', async () => {
    const s = server();
    const run = await runEtl({ config: app.config, store: app.store, layouts: app.layouts });
    const url = `/api/cases-etl/runs/${run.runId}/rollback`;
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect((await s.inject({ method: 'POST', url, payload: {} })).statusCode).toBe(401);
    const dry = await s.inject({ method: 'POST', url, headers: auth, payload: { dryRun: true } });
    expect(dry.statusCode).toBe(200);
    expect(dry.json()).toMatchObject({ dryRun: true, rollbackId: null, rowsDeleted: 2658, rowsRestored: 0 });
    expect((await app.store.getRun(run.runId as number))?.status).toBe('succeeded');
    const done = await s.inject({ method: 'POST', url, headers: auth, payload: { reason: 'wrong export folder' } });
    expect(done.statusCode).toBe(200);
    expect(done.json()).toMatchObject({ dryRun: false, runId: run.runId, school: '8865', rowsDeleted: 2658 });
    expect((await app.store.getRun(run.runId as number))?.status).toBe('rolled_back');
    const [rollback] = (await s.inject({ method: 'GET', url: '/api/cases-etl/rollbacks?school=8865' })).json();
    expect(rollback).toMatchObject({ targetRunId: run.runId, requestedBy: 'api:ops', reason: 'wrong export folder' });
    const again = await s.inject({ method: 'POST', url, headers: auth, payload: {} });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'ETL_ROLLBACK_ALREADY' });
    expect(
      (await s.inject({ method: 'POST', url: '/api/cases-etl/runs/999999/rollback', headers: auth, payload: {} }))
        .statusCode,
    ).toBe(404);
    const [school] = (await s.inject({ method: 'GET', url: '/api/cases-etl/schools' })).json();
    expect(school).toMatchObject({ school: '8865', runs: { rolled_back: 1 }, rollbacks: 1, lastPublishedAt: null });
  });

  it('refuses triggers when no admin token is configured', async () => {
    const bare = await createApp(target.config({ CASES_DIRECTORY: src }), {
      logger: createLogger({ level: 'silent' }),
    });
    try {
      const s = buildAppServer(bare);
      const r = await s.inject({
        method: 'POST',
        url: '/api/cases-etl/trigger',
        headers: { authorization: `Bearer ${TOKEN}` },
        payload: {},
      });
      expect(r.statusCode).toBe(403);
    } finally {
      await bare.stop();
    }
  });
});
