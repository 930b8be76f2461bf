import type { PoolClient } from 'pg';

import {
  assertSameKey,
  SCHOOL_COLUMN,
  type MirrorColumn,
  type MirrorTable,
  missingColumns,
} from '../../schema/index.js';
import { mirrorCommentsSql } from './comments.js';
import {
  addColumnSql,
  createMirrorSql,
  inactiveIndexName,
  inactiveIndexSql,
  LOCKS,
  MIRROR_CATALOG,
  MIRROR_CATALOG_CACHED,
  PRIMARY_KEY_COLUMNS,
  q,
} from './sql.js';

/** The school's rows in a mirror table, active or not (see plan/unchanged.ts). */
export function countRowsSql(m: MirrorTable): string {
  return `SELECT count(*) AS n FROM ${q(m.name)} WHERE ${q(SCHOOL_COLUMN)} = $1`;
}

/**
 * Mirror tables on PostgreSQL. DDL is done only when something is actually missing: ALTER TABLE
 * takes an ACCESS EXCLUSIVE lock held until the run commits, so doing it every night would make
 * every other school's run wait for this one. The views over the tables are made once the run's
 * files are loaded (views.ts).
 */

interface DdlPlan {
  readonly create: boolean;
  readonly add: readonly MirrorColumn[];
  /** The table has no comment yet: it was made before cases-etl described its tables. */
  readonly undescribed: boolean;
  /** The table lacks its index of inactive rows: it was made before cases-etl indexed them. */
  readonly unindexed: boolean;
}

async function planDdl(client: PoolClient, schema: string, mirror: MirrorTable, cached: boolean): Promise<DdlPlan> {
  const text = cached ? MIRROR_CATALOG_CACHED : MIRROR_CATALOG;
  const catalog = (
    await client.query<{ kind: 'column' | 'comment' | 'index'; name: string; note: string | null }>(text, [
      schema,
      mirror.name,
    ])
  ).rows;
  const existing = new Set(catalog.filter((r) => r.kind === 'column').map((r) => r.name));
  const create = existing.size === 0;
  const comment = catalog.find((r) => r.kind === 'comment');
  const index = inactiveIndexName(mirror);
  return {
    create,
    add: create ? [] : missingColumns(mirror, existing),
    undescribed: !create && (comment?.note ?? null) === null,
    unindexed: !create && !catalog.some((r) => r.kind === 'index' && r.name === index),
  };
}

const isEmpty = (plan: DdlPlan): boolean =>
  !plan.create && plan.add.length === 0 && !plan.undescribed && !plan.unindexed;

/**
 * Creates `mirror` in `schema` if missing and adds the columns it lacks, commenting what it made
 * (or the whole table, once, when it has no comment yet). Runs inside the run's transaction: the
 * DDL is published with the data or not at all. Returns whether it created the table; with
 * `deferKey`, a table it creates has no primary key yet, and the caller must add it
 * (addPrimaryKeySql) before the transaction commits.
 */
export async function ensurePostgresMirror(
  client: PoolClient,
  schema: string,
  mirror: MirrorTable,
  deferKey = false,
): Promise<boolean> {
  // A table made earlier in this transaction has no key yet (deferKey), and is this layout's anyway.
  assertSameKey(
    mirror,
    (await client.query<{ name: string }>(PRIMARY_KEY_COLUMNS, [schema, mirror.name])).rows.map((r) => r.name),
  );
  if (isEmpty(await planDdl(client, schema, mirror, true))) return false;
  // The views lock first, as the views step takes it (see LOCKS.viewsDdl). Two schools' first runs
  // may both find the table missing: the second waits here until the first commits, then plans
  // again and finds nothing left to do.
  await client.query(LOCKS.viewsDdl, [schema]);
  await client.query(LOCKS.mirrorDdl, [schema, mirror.name]);
  const plan = await planDdl(client, schema, mirror, false);
  if (plan.create) await client.query(createMirrorSql(mirror, !deferKey));
  // A new table is empty, so its index of inactive rows costs nothing to make now; an older
  // table's is built once, here, from its inactive rows.
  if (plan.create || plan.unindexed) await client.query(inactiveIndexSql(mirror));
  for (const c of plan.add) await client.query(addColumnSql(mirror.name, c));
  const whole = plan.create || plan.undescribed;
  const comments = mirrorCommentsSql(mirror, whole ? mirror.columns : plan.add, whole);
  if (comments !== '') await client.query(comments);
  return plan.create;
}
