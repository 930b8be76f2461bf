import type { PoolClient } from 'pg';

import {
  type MirrorTable,
  assertKeyHolds,
  assertRekeyable,
  keyAfterSchool,
  type RekeyCounts,
  type RekeyResult,
} from '../../schema/index.js';
import { LEDGER } from './ledger.js';
import {
  lockTableSql,
  LOCKS,
  MIRROR_CATALOG,
  PRIMARY_KEY_COLUMNS,
  PRIMARY_KEY_CONSTRAINT,
  rekeyCountsSql,
  rekeySql,
} from './sql.js';

/**
 * Rebuilds `mirror` under its layout's key on PostgreSQL, in the caller's transaction: the key is
 * swapped in place (ALTER TABLE), so rows, their order on disk and every view over the table stay
 * as they are. Refuses (ETL_LAYOUT_REKEY_REFUSED) when the table cannot take the key.
 */
export async function rekeyPostgres(client: PoolClient, schema: string, mirror: MirrorTable): Promise<RekeyResult> {
  // The locks ensureMirror takes before any DDL on the table, in its order: no school's first run
  // creates or widens it while its key is being changed, whichever school that run is for.
  await client.query(LOCKS.viewsDdl, [schema]);
  await client.query(LOCKS.mirrorDdl, [schema, mirror.name]);
  const catalog = (await client.query<{ kind: string; name: string }>(MIRROR_CATALOG, [schema, mirror.name])).rows;
  const columns = new Set(catalog.filter((r) => r.kind === 'column').map((r) => r.name));
  const current = (await client.query<{ name: string }>(PRIMARY_KEY_COLUMNS, [schema, mirror.name])).rows.map(
    (r) => r.name,
  );
  const changed = assertRekeyable(mirror, columns, current);
  // Runs loading the table finish first; none starts on it until this commits, so the counts
  // below still hold when the key is swapped. Nothing is locked when there is nothing to do.
  if (changed) await client.query(lockTableSql(mirror.name));
  type CountRow = { rows: number; null_rows: number; duplicate_rows: number; duplicate_keys: number };
  const row = (await client.query<CountRow>(rekeyCountsSql(mirror.name, mirror.key))).rows[0];
  const counts: RekeyCounts = {
    rows: row?.rows ?? 0,
    nullRows: row?.null_rows ?? 0,
    duplicateRows: row?.duplicate_rows ?? 0,
    duplicateKeys: row?.duplicate_keys ?? 0,
  };
  const oldKey = keyAfterSchool(current);
  const result = { table: mirror.table, mirror: mirror.name, oldKey, newKey: [...mirror.key], rows: counts.rows };
  if (!changed) return { ...result, changed: false, prunedRuns: [] };
  assertKeyHolds(mirror, counts);
  const constraint =
    (await client.query<{ name: string }>(PRIMARY_KEY_CONSTRAINT, [schema, mirror.name])).rows[0]?.name ?? null;
  await client.query(rekeySql(mirror, constraint, oldKey));
  const pruned = (await client.query<{ id: string }>(LEDGER.pruneTableChanges, [mirror.table])).rows.map((r) =>
    Number(r.id),
  );
  return { ...result, changed: true, prunedRuns: pruned };
}
