import type { PoolClient } from 'pg';

import { q } from './sql.js';

/**
 * Keeping a year of nights the size of its data on PostgreSQL. Each night updates a few rows of
 * its mirror tables and prunes change history past the retention window: both leave dead row
 * versions that only VACUUM makes room for again. Autovacuum does that on a server that runs it;
 * on one that does not (or not yet), a year of nights grew the database by six times the bytes
 * that changed. So after a night publishes, the tables it wrote are vacuumed here by
 * autovacuum's own rule (dead rows over 50 + 20% of the live ones), which on a server whose
 * autovacuum keeps up finds nothing to do. SKIP_LOCKED: a table another session holds is left
 * for a later night rather than waited for.
 *
 * Statistics are gathered (ANALYZE) by the same rule, but only for the ledger's run tables, whose
 * lookups the nights depend on. A mirror table or the change log is analysed only with a vacuum:
 * analysing each table after every school's first load tripled a 20-school first night, and the
 * pipeline's own statements reach mirror rows by address and changes by run, not by estimates.
 */

/** Autovacuum's defaults: autovacuum_vacuum_threshold, _vacuum_scale_factor, _analyze_threshold and _analyze_scale_factor. */
const VACUUM_THRESHOLD = 50;
const VACUUM_SCALE = 0.2;
const ANALYZE_THRESHOLD = 50;
const ANALYZE_SCALE = 0.1;

/** The tables analysed on their own when their statistics are out of date. */
const ANALYSED = ['etl_runs', 'etl_run_files'];

/**
 * $1 schema, $2 table names: those with more dead rows than autovacuum would allow (`vacuum`),
 * and those of ANALYSED ($3) with more rows changed since their statistics were gathered than
 * it would analyse after. The ledger's run tables only grow: unanalysed, a year of nights left
 * the planner reading every night's file rows to find last night's (19 ms a night, 0.25 ms with
 * statistics). A run's connection flushes its statistics as it commits (FLUSH_STATS), so these
 * figures include the night's own.
 */
export const DUE = `SELECT relname AS name, n_dead_tup > ${VACUUM_THRESHOLD} + ${VACUUM_SCALE} * n_live_tup AS vacuum
  FROM pg_catalog.pg_stat_user_tables
  WHERE schemaname = $1 AND relname = ANY($2::text[])
    AND (n_dead_tup > ${VACUUM_THRESHOLD} + ${VACUUM_SCALE} * n_live_tup
      OR (relname = ANY($3::text[]) AND n_mod_since_analyze > ${ANALYZE_THRESHOLD} + ${ANALYZE_SCALE} * n_live_tup))
  ORDER BY relname`;

/**
 * A backend reports its table statistics when it goes idle, at most once a second unless told
 * otherwise: run after a commit, this has the run's own reported at once (PostgreSQL 15 and
 * later; before 15 the statistics collector takes half a second or so), so the check after a
 * night sees what the night did, and does not find it again the night after.
 */
export const FLUSH_STATS = `DO $$ BEGIN
  IF current_setting('server_version_num')::int >= 150000 THEN PERFORM pg_catalog.pg_stat_force_next_flush(); END IF;
END $$`;

/**
 * Vacuums and analyses, or only analyses, those of `tables` in `schema` that are due, outside any
 * transaction; returns the names vacuumed.
 */
export async function vacuumDue(client: PoolClient, schema: string, tables: readonly string[]): Promise<string[]> {
  if (tables.length === 0) return [];
  const due = (await client.query<{ name: string; vacuum: boolean }>(DUE, [schema, [...tables], ANALYSED])).rows;
  for (const { name, vacuum } of due)
    await client.query(`${vacuum ? 'VACUUM (SKIP_LOCKED, ANALYZE)' : 'ANALYZE (SKIP_LOCKED)'} ${q(schema)}.${q(name)}`);
  return due.filter((d) => d.vacuum).map((d) => d.name);
}
