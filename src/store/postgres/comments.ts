import {
  mirrorDescription,
  OWN_COLUMN_DESCRIPTIONS,
  type MirrorColumn,
  type MirrorTable,
  type ViewDef,
} from '../../schema/index.js';
import { lit, q } from './sql.js';

/**
 * COMMENT ON statements from eduHub's descriptions, so `\d+ students` and BI tools say what a
 * column means. Written only when a table, column or view is made or changed (they take a lock
 * on the relation): the callers decide when.
 */

const join = (statements: readonly string[]): string => statements.join(';\n');

function onColumn(relation: string, column: string, text: string): string {
  return `COMMENT ON COLUMN ${q(relation)}.${q(column)} IS ${lit(text)}`;
}

/**
 * Comments on a mirror table and `columns` of it: all of them (with the table's own and the
 * loader's columns) when `whole`, for a table just made or never described; else only the
 * columns just added. Columns without a description get none. Several statements in one string,
 * sent in one round trip.
 */
export function mirrorCommentsSql(m: MirrorTable, columns: readonly MirrorColumn[], whole: boolean): string {
  const statements: string[] = [];
  if (whole) {
    statements.push(`COMMENT ON TABLE ${q(m.name)} IS ${lit(mirrorDescription(m))}`);
    for (const [column, text] of Object.entries(OWN_COLUMN_DESCRIPTIONS))
      statements.push(onColumn(m.name, column, text));
  }
  for (const c of columns) if (c.description) statements.push(onColumn(m.name, c.name, c.description));
  return join(statements);
}

/** The comment on a view and each of its columns; the view's ends with `stamp`, which tells whether it changed. */
export function viewCommentsSql(view: ViewDef, stamp: string): string {
  const statements = [`COMMENT ON VIEW ${q(view.name)} IS ${lit(`${view.description}\n\n${stamp}`)}`];
  for (const f of view.selects[0]?.fields ?? [])
    if (f.description) statements.push(onColumn(view.name, f.field, f.description));
  return join(statements);
}
