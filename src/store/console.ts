import type { LoadMode } from '../layouts/index.js';
import type { RunPageFilter, TableRowsPoint } from './types.js';

/**
 * The console's reads (ConsoleQueries in types.ts), as SQL both adapters run: PostgreSQL `$n`
 * placeholders, each used once and in order, so SQLite's adapter can make them `?`. A filter left
 * out is left out of the SQL too, rather than `$1 IS NULL OR …`, which PostgreSQL cannot type.
 */

/** Runs the charts draw: finished, not dry runs, not skipped (a skip read nothing, and would chart as a dip). */
const CHARTED = `school_id = $1 AND started_at >= $2 AND NOT dry_run AND status NOT IN ('running', 'skipped')`;

/** At most this many runs per chart: 60 nights of hourly runs fit, a runaway trigger loop does not draw a million points. */
export const CHART_MAX_RUNS = 2000;

export const CONSOLE_SQL = {
  chartRuns: `SELECT * FROM (SELECT * FROM etl_runs WHERE ${CHARTED} ORDER BY id DESC LIMIT ${CHART_MAX_RUNS}) r ORDER BY id`,
  chartTableRows: `SELECT r.id AS run_id, r.started_at, f.table_name, f.mode, f.rows_loaded
                     FROM (SELECT id, started_at FROM etl_runs WHERE ${CHARTED} ORDER BY id DESC LIMIT ${CHART_MAX_RUNS}) r
                     JOIN etl_run_files f ON f.run_id = r.id AND f.error IS NULL
                    ORDER BY r.id, f.table_name, f.file_name`,
  rejectsPage: `SELECT file_name, line, row_key, field, code, message FROM etl_rejects WHERE run_id = $1
                 ORDER BY file_name, line, id LIMIT $2 OFFSET $3`,
  rejectsCount: 'SELECT count(*) AS n FROM etl_rejects WHERE run_id = $1',
} as const;

/** The WHERE clause and parameters of a page of runs ($1… in order). */
export function runPageWhere(filter: RunPageFilter): { where: string; params: unknown[] } {
  const conditions: string[] = [];
  const params: unknown[] = [];
  if (filter.school) conditions.push(`school_id = $${params.push(filter.school)}`);
  if (filter.status) conditions.push(`status = $${params.push(filter.status)}`);
  return { where: conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`, params };
}

/** A page of runs and their count, for `where` from runPageWhere (`n` the next placeholder number). */
export function runPageSql(where: string, n: number): { page: string; count: string } {
  return {
    page: `SELECT * FROM etl_runs ${where} ORDER BY id DESC LIMIT $${n} OFFSET $${n + 1}`,
    count: `SELECT count(*) AS n FROM etl_runs ${where}`,
  };
}

export function toTableRowsPoint(row: Record<string, unknown>): TableRowsPoint {
  const startedAt = row.started_at instanceof Date ? row.started_at.toISOString() : String(row.started_at);
  return {
    runId: Number(row.run_id),
    startedAt,
    table: String(row.table_name),
    mode: row.mode as LoadMode,
    rows: Number(row.rows_loaded ?? 0),
  };
}
