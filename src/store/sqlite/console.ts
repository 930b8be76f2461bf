import type { Database, Statement } from 'better-sqlite3';

import { toRejectRecord, toRunRecord } from '../common.js';
import { CONSOLE_SQL, runPageSql, runPageWhere, toTableRowsPoint } from '../console.js';
import type { ConsoleQueries } from '../types.js';

type Row = Record<string, unknown>;

/** The console's reads on SQLite (store/console.ts has the statements). */
export function createSqliteConsole(db: Database): ConsoleQueries {
  // Prepared on first use, as the store's own: the ledger may not exist until migrate().
  const prepared = new Map<string, Statement>();
  const stmt = (sql: string): Statement => {
    let s = prepared.get(sql);
    if (!s) prepared.set(sql, (s = db.prepare(sql.replace(/\$\d+/g, '?'))));
    return s;
  };
  const count = (sql: string, params: unknown[]): number =>
    Number(
      stmt(sql)
        .pluck()
        .get(...params),
    );
  return {
    async pageRuns(filter) {
      const { where, params } = runPageWhere(filter);
      const sql = runPageSql(where, params.length + 1);
      const items = (stmt(sql.page).all(...params, filter.limit, filter.offset) as Row[]).map(toRunRecord);
      return { items, total: count(sql.count, params) };
    },
    async pageRejects(runId, limit, offset) {
      const items = (stmt(CONSOLE_SQL.rejectsPage).all(runId, limit, offset) as Row[]).map(toRejectRecord);
      return { items, total: count(CONSOLE_SQL.rejectsCount, [runId]) };
    },
    async chartRuns(school, since) {
      return (stmt(CONSOLE_SQL.chartRuns).all(school, since.toISOString()) as Row[]).map(toRunRecord);
    },
    async chartTableRows(school, since) {
      return (stmt(CONSOLE_SQL.chartTableRows).all(school, since.toISOString()) as Row[]).map(toTableRowsPoint);
    },
  };
}
