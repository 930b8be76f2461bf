import { createHash } from 'node:crypto';

import type { PoolClient } from 'pg';

import type { KeptView } from '../types.js';

import { viewMirrors, viewOver, type ViewDef } from '../../schema/index.js';
import { createViewSql, type ViewDialect } from '../view-sql.js';
import { viewCommentsSql } from './comments.js';
import { LOCKS, lit, q, VIEWS_CATALOG } from './sql.js';

/**
 * The friendly views on PostgreSQL, made once a run's files are loaded, and the column catalogue.
 * DDL only when a view's definition changed: DROP VIEW takes an ACCESS EXCLUSIVE lock held until
 * the run commits. Each view's comment ends with a stamp of its definition and column comments,
 * which is how "changed" is told.
 */

export const POSTGRES_VIEWS: ViewDialect = {
  q,
  lit,
  // The mirror holds a CASES datetime as a timestamp; a date column's are all at midnight.
  date: (e) => `CAST(${e} AS date)`,
  boolean: (e) => `CASE ${e} WHEN 'Y' THEN true WHEN 'N' THEN false END`,
  text: (e) => `CAST(${e} AS text)`,
};

export const CATALOGUE = 'cases_etl_columns';

/** Marks a view as cases-etl's in its comment; the catalogue lists the views whose comment has it. */
const STAMP = 'cases-etl view (definition';

/**
 * Every column of the mirror tables and of cases-etl's views in `schema`, with its type and its
 * comment: what `cases_etl_columns` on SQLite gives, so the same query works on both.
 */
function catalogueSql(schema: string): string {
  return `CREATE VIEW ${q(CATALOGUE)} AS
SELECT c.relname::text AS table_name, a.attname::text AS column_name,
  pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, pg_catalog.col_description(c.oid, a.attnum) AS description
FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relnamespace = ${lit(q(schema))}::regnamespace AND c.relname <> ${lit(CATALOGUE)} AND (
  (c.relkind IN ('r', 'p') AND c.relname LIKE 'cases\\_%')
  OR (c.relkind = 'v' AND pg_catalog.obj_description(c.oid, 'pg_class') LIKE ${lit(`%${STAMP}%`)}))
ORDER BY c.relname, a.attnum`;
}

interface Wanted {
  readonly name: string;
  readonly create: string;
  /** Comments on the view and its columns, the view's ending with the stamp. */
  readonly comments: string;
  readonly stamp: string;
}

function stampOf(create: string, comments: string): string {
  const digest = createHash('sha256').update(create).update('\0').update(comments).digest('hex').slice(0, 16);
  return `${STAMP} ${digest})`;
}

function wanted(view: ViewDef): Wanted {
  const create = createViewSql(view, POSTGRES_VIEWS);
  // The stamp covers the comments without itself: made from the description, then appended.
  const stamp = stampOf(create, viewCommentsSql(view, ''));
  return { name: view.name, create, comments: viewCommentsSql(view, stamp), stamp };
}

function wantedCatalogue(schema: string): Wanted {
  const create = catalogueSql(schema);
  const description = 'Every column of the mirror tables and cases-etl views, with its type and what it means';
  const stamp = stampOf(create, description);
  return {
    name: CATALOGUE,
    create,
    comments: `COMMENT ON VIEW ${q(CATALOGUE)} IS ${lit(`${description}\n\n${stamp}`)}`,
    stamp,
  };
}

/** The views (and the catalogue) whose definition differs from the one in the database. */
async function planViews(client: PoolClient, schema: string, views: readonly ViewDef[]): Promise<Wanted[]> {
  const mirrors = [...new Set(views.flatMap(viewMirrors))];
  const names = [...views.map((v) => v.name), CATALOGUE];
  const rows = (
    await client.query<{ kind: 'column' | 'view'; relation: string; name: string | null }>(VIEWS_CATALOG, [
      schema,
      mirrors,
      names,
    ])
  ).rows;
  const columns = new Map<string, Set<string>>();
  const comments = new Map<string, string | null>();
  for (const r of rows) {
    if (r.kind === 'view') comments.set(r.relation, r.name);
    else columns.set(r.relation, (columns.get(r.relation) ?? new Set()).add(r.name ?? ''));
  }
  const all = views.flatMap((v) => {
    const view = viewOver(v, (m) => columns.get(m));
    return view === null ? [] : [wanted(view)];
  });
  all.push(wantedCatalogue(schema));
  return all.filter((w) => comments.get(w.name)?.endsWith(w.stamp) !== true);
}

/** PostgreSQL's dependent_objects_still_exist: DROP VIEW of a view that others use. */
const DEPENDENTS_EXIST = '2BP01';

/** $1 schema, $2 view: the views and rules whose rewrite reads it, by name. */
const DEPENDENTS = `SELECT DISTINCT d.relname::text AS name FROM pg_catalog.pg_depend AS p
  JOIN pg_catalog.pg_rewrite AS r ON r.oid = p.objid
  JOIN pg_catalog.pg_class AS d ON d.oid = r.ev_class
  WHERE p.classid = 'pg_catalog.pg_rewrite'::regclass
    AND p.refobjid = format('%I.%I', $1::text, $2::text)::regclass AND d.oid <> p.refobjid
  ORDER BY 1`;

/**
 * Replaces one view, inside a savepoint so that a refusal leaves the run's transaction usable: in
 * place first (CREATE OR REPLACE keeps views of the database's own that read it, when the new
 * definition only adds columns), else dropped and made again. A view others depend on that cannot
 * be replaced in place is kept as it was, and said so (the night's rows still load: the old view
 * reads the same mirror table).
 */
async function replaceView(client: PoolClient, schema: string, w: Wanted): Promise<KeptView | null> {
  const attempt = async (statements: readonly string[]): Promise<unknown> => {
    await client.query('SAVEPOINT cases_etl_view');
    try {
      for (const sql of statements) await client.query(sql);
      await client.query('RELEASE SAVEPOINT cases_etl_view');
      return null;
    } catch (err) {
      await client.query('ROLLBACK TO SAVEPOINT cases_etl_view');
      await client.query('RELEASE SAVEPOINT cases_etl_view');
      return err;
    }
  };
  const inPlace = w.create.replace(/^CREATE VIEW /, 'CREATE OR REPLACE VIEW ');
  if ((await attempt([inPlace, w.comments])) === null) return null;
  const err = await attempt([`DROP VIEW IF EXISTS ${q(w.name)}`, w.create, w.comments]);
  if (err === null) return null;
  if ((err as { code?: unknown }).code !== DEPENDENTS_EXIST) throw err;
  const dependents = (await client.query<{ name: string }>(DEPENDENTS, [schema, w.name])).rows.map((r) => r.name);
  return { view: w.name, dependents };
}

/**
 * Makes every view whose base table exists as its definition says, over what the database has
 * (see viewOver), and the column catalogue, inside the run's transaction. Under the views lock,
 * the plan is made again: another school's run may have made the same views meanwhile. Returns
 * the views kept as they were (see replaceView).
 */
export async function ensurePostgresViews(
  client: PoolClient,
  schema: string,
  views: readonly ViewDef[],
): Promise<KeptView[]> {
  if ((await planViews(client, schema, views)).length === 0) return [];
  await client.query(LOCKS.viewsDdl, [schema]);
  const kept: KeptView[] = [];
  for (const w of await planViews(client, schema, views)) {
    const result = await replaceView(client, schema, w);
    if (result !== null) kept.push(result);
  }
  return kept;
}
