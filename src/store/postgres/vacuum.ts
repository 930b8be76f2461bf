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
 */

/** Autovacuum's defaults: autovacuum_vacuum_threshold and autovacuum_vacuum_scale_factor. */
const THRESHOLD = 50;
const SCALE = 0.2;

/** $1 schema, $2 table names: those of them with more dead rows than autovacuum would allow. */
export const DUE_FOR_VACUUM = `SELECT relname AS name FROM pg_catalog.pg_stat_user_tables
  WHERE schemaname = $1 AND relname = ANY($2::text[]) AND n_dead_tup > ${THRESHOLD} + ${SCALE} * n_live_tup
  ORDER BY relname`;

/**
 * Vacuums (and analyses) those of `tables` in `schema` that are due, outside any transaction;
 * returns the names vacuumed.
 */
export async function vacuumDue(client: PoolClient, schema: string, tables: readonly string[]): Promise<string[]> {
  if (tables.length === 0) return [];
  const due = (await client.query<{ name: string }>(DUE_FOR_VACUUM, [schema, [...tables]])).rows.map((r) => r.name);
  for (const name of due) await client.query(`VACUUM (SKIP_LOCKED, ANALYZE) ${q(schema)}.${q(name)}`);
  return due;
}
