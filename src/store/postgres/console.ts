import type { PoolClient } from 'pg';

import { toRejectRecord, toRunRecord } from '../common.js';
import { CONSOLE_SQL, runPageSql, runPageWhere, toTableRowsPoint } from '../console.js';
import type { ConsoleQueries } from '../types.js';

type Row = Record<string, unknown>;
type WithClient = <T>(fn: (client: PoolClient) => Promise<T>) => Promise<T>;

/** The console's reads on PostgreSQL (store/console.ts has the statements), each on a pooled connection. */
export function createPostgresConsole(withClient: WithClient): ConsoleQueries {
  const count = async (client: PoolClient, sql: string, params: unknown[]): Promise<number> =>
    Number((await client.query<{ n: string }>(sql, params)).rows[0]?.n ?? 0);
  return {
    pageRuns: (filter) =>
      withClient(async (client) => {
        const { where, params } = runPageWhere(filter);
        const sql = runPageSql(where, params.length + 1);
        const { rows } = await client.query<Row>(sql.page, [...params, filter.limit, filter.offset]);
        return { items: rows.map(toRunRecord), total: await count(client, sql.count, params) };
      }),
    pageRejects: (runId, limit, offset) =>
      withClient(async (client) => {
        const { rows } = await client.query<Row>(CONSOLE_SQL.rejectsPage, [runId, limit, offset]);
        return { items: rows.map(toRejectRecord), total: await count(client, CONSOLE_SQL.rejectsCount, [runId]) };
      }),
    chartRuns: (school, since) =>
      withClient(async (client) =>
        (await client.query<Row>(CONSOLE_SQL.chartRuns, [school, since])).rows.map(toRunRecord),
      ),
    chartTableRows: (school, since) =>
      withClient(async (client) =>
        (await client.query<Row>(CONSOLE_SQL.chartTableRows, [school, since])).rows.map(toTableRowsPoint),
      ),
  };
}
