import { createHash } from 'node:crypto';

import type { PoolClient } from 'pg';

import {
  assertSameKey,
  BOOKKEEPING,
  missingColumns,
  SCHOOL_COLUMN,
  type MirrorColumn,
  type MirrorTable,
  viewOver,
  type ViewDef,
} from '../../schema/index.js';
import {
  addColumnSql,
  commentViewSql,
  createMirrorSql,
  createViewSql,
  dropViewSql,
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
 * Mirror tables and their views on PostgreSQL. DDL is done only when something is actually
 * missing or different: DROP VIEW and ALTER TABLE take ACCESS EXCLUSIVE locks held until the
 * run commits, so doing them every night would make every other school's run wait for this one.
 * Each view carries a stamp of its definition in its comment, which is how "different" is told.
 */

interface DdlPlan {
  readonly create: boolean;
  readonly add: readonly MirrorColumn[];
  readonly views: ReadonlyArray<{ readonly view: ViewDef; readonly stamp: string }>;
}

function viewStamp(view: ViewDef): string {
  const digest = createHash('sha256').update(createViewSql(view)).digest('hex').slice(0, 16);
  return `cases-etl view over ${view.mirror} (definition ${digest})`;
}

async function planDdl(
  client: PoolClient,
  schema: string,
  mirror: MirrorTable,
  views: readonly ViewDef[],
  cached: boolean,
): Promise<DdlPlan> {
  const text = cached ? MIRROR_CATALOG_CACHED : MIRROR_CATALOG;
  const catalog = (
    await client.query<{ kind: 'column' | 'view'; name: string; stamp: string | null }>(text, [
      schema,
      mirror.name,
      views.map((v) => v.name),
    ])
  ).rows;
  const existing = new Set(catalog.filter((r) => r.kind === 'column').map((r) => r.name));
  const stamps = new Map(catalog.filter((r) => r.kind === 'view').map((r) => [r.name, r.stamp]));
  const create = existing.size === 0;
  // The columns the table will have once this plan is applied, which is what the views may show.
  const columns = new Set([
    ...existing,
    SCHOOL_COLUMN,
    ...Object.values(BOOKKEEPING),
    ...mirror.columns.map((c) => c.name),
  ]);
  const wanted = views.map((v) => {
    const view = viewOver(v, columns);
    return { view, stamp: viewStamp(view) };
  });
  return {
    create,
    add: create ? [] : missingColumns(mirror, existing),
    views: wanted.filter((w) => stamps.get(w.view.name) !== w.stamp),
  };
}

const isEmpty = (plan: DdlPlan): boolean => !plan.create && plan.add.length === 0 && plan.views.length === 0;

/**
 * Creates `mirror` in `schema` if missing, adds the columns it lacks, and (re)creates the views
 * over it whose definition changed, restricted to columns the table has. Runs inside the run's
 * transaction: the DDL is published with the data or not at all. Returns whether it created
 * the table; with `deferKey`, a table it creates has no primary key yet, and the caller must add
 * it (addPrimaryKeySql) before the transaction commits.
 */
export async function ensurePostgresMirror(
  client: PoolClient,
  schema: string,
  mirror: MirrorTable,
  views: readonly ViewDef[],
  deferKey = false,
): Promise<boolean> {
  const own = views.filter((v) => v.table === mirror.table);
  // A table made earlier in this transaction has no key yet (deferKey), and is this layout's anyway.
  assertSameKey(
    mirror,
    (await client.query<{ name: string }>(PRIMARY_KEY_COLUMNS, [schema, mirror.name])).rows.map((r) => r.name),
  );
  if (isEmpty(await planDdl(client, schema, mirror, own, true))) return false;
  // Two schools' first runs may both find the table missing: the second waits here until the
  // first commits, then plans again and finds nothing left to do.
  await client.query(LOCKS.mirrorDdl, [schema, mirror.name]);
  const plan = await planDdl(client, schema, mirror, own, false);
  if (plan.create) await client.query(createMirrorSql(mirror, !deferKey));
  for (const c of plan.add) await client.query(addColumnSql(mirror.name, c));
  for (const { view, stamp } of plan.views) {
    await client.query(dropViewSql(view));
    await client.query(createViewSql(view));
    await client.query(commentViewSql(view, stamp));
  }
  return plan.create;
}
