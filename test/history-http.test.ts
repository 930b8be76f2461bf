import type { AddressInfo } from 'node:net';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { buildAppServer, createApp, type App } from '../src/app/index.js';
import { createLogger } from '../src/observability/index.js';
import { runCli } from './helpers/cli.js';
import { HELD, historyNights, MOVED } from './helpers/history-nights.js';
import { DIALECTS, useExportFolder } from './helpers/targets.js';

const TOKEN = 'a-long-admin-token-for-history';

/**
 * `GET /api/cases-etl/history/:table/:key` over real HTTP (issue 19): admin only, the same
 * content as `cases-etl history --json`, values only with `show_values=true`.
 */
describe.each(DIALECTS)(
  'the history route on %s',
  (dialect) => {
    const folder = useExportFolder(dialect);
    const nights = historyNights(folder);
    let apps: App[] = [];

    beforeEach(() => {
      apps = [];
    });
    afterEach(async () => {
      for (const app of apps) await app.stop();
    });

    /** serve's HTTP on a free port, with `tokens` as ETL_ADMIN_TOKENS; fetches a path on it. */
    async function serve(tokens: string | null): Promise<(path: string, token?: string) => Promise<Response>> {
      const app = await createApp(nights.config(tokens === null ? {} : { ETL_ADMIN_TOKENS: tokens }), {
        logger: createLogger({ level: 'silent' }),
      });
      apps.push(app);
      const server = buildAppServer(app);
      app.onStop(() => server.close());
      await server.listen({ host: '127.0.0.1', port: 0 });
      const { port } = server.server.address() as AddressInfo;
      return (path, token) =>
        fetch(`http://127.0.0.1:${port}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    }

    it('answers an admin with what history --json prints, values only when asked', async () => {
      await nights.threeNights();
      const get = await serve(`ops:${TOKEN}`);
      const path = `/api/cases-etl/history/st/${MOVED}?school=8865`;

      const refused = await get(path);
      expect(refused.status).toBe(401);
      expect(await refused.json()).toMatchObject({ code: 'ETL_HTTP_UNAUTHORIZED' });
      expect((await get(path, 'wrong-token-wrong-token')).status).toBe(401);

      const res = await get(path, TOKEN);
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const body = (await res.json()) as Record<string, unknown>;
      const cli = await runCli(['history', 'st', MOVED, '--school', '8865', '--json'], folder.target.env);
      expect(body).toEqual(JSON.parse(cli.stdout));
      expect(JSON.stringify(body)).not.toMatch(/10C|9B/);

      const withValues = await get(`${path}&show_values=true`, TOKEN);
      const cliValues = await runCli(
        ['history', 'ST', MOVED, '--school', '8865', '--json', '--show-values'],
        folder.target.env,
      );
      expect(await withValues.json()).toEqual(JSON.parse(cliValues.stdout));

      const held = (await (await get(`/api/cases-etl/history/ST/${HELD}`, TOKEN)).json()) as {
        entries: Array<{ op: string }>;
      };
      expect(held.entries.map((e) => e.op)).toEqual(['inserted', 'held', 'held']);
    });

    it('is refused when no admin token is configured, and says what is unknown', async () => {
      await nights.run();
      const closed = await serve(null);
      const forbidden = await closed(`/api/cases-etl/history/ST/${MOVED}`, TOKEN);
      expect(forbidden.status).toBe(403);
      expect(await forbidden.json()).toMatchObject({ code: 'ETL_HTTP_FORBIDDEN' });

      const get = await serve(`ops:${TOKEN}`);
      const table = await get(`/api/cases-etl/history/XYZ/${MOVED}`, TOKEN);
      expect(table.status).toBe(404);
      expect(await table.json()).toMatchObject({ code: 'ETL_HISTORY_UNKNOWN_TABLE', statusCode: 404 });
      const row = await get('/api/cases-etl/history/ST/NOBODY1?school=8865', TOKEN);
      expect(row.status).toBe(404);
      expect(await row.json()).toMatchObject({ code: 'ETL_HISTORY_NOT_FOUND' });
      expect((await get(`/api/cases-etl/history/ST/${MOVED}?show_values=maybe`, TOKEN)).status).toBe(400);
      expect((await get(`/api/cases-etl/history/ST/${MOVED}?school=88%2F65`, TOKEN)).status).toBe(400);
    });
  },
  120_000,
);
