import {
  BOOKKEEPING,
  SCHOOL_COLUMN,
  type ViewCondition,
  type ViewDef,
  type ViewJoin,
  type ViewSelect,
  type ViewValue,
} from '../schema/index.js';

/**
 * A view's SELECT, written once for both databases: each adapter gives the few expressions that
 * differ (how a datetime becomes a date, a Y/N flag a boolean, a value text).
 */

export interface ViewDialect {
  /** Quotes an identifier. */
  readonly q: (name: string) => string;
  /** A string literal. */
  readonly lit: (text: string) => string;
  /** The date part of a stored datetime. */
  readonly date: (expr: string) => string;
  /** 'Y' as true, 'N' as false, anything else as null. */
  readonly boolean: (expr: string) => string;
  /** The value as text, to compare a code with a key of another type. */
  readonly text: (expr: string) => string;
}

/** The base table's alias in every select (schema/view-fields.ts). */
const BASE = 't';

function valueSql(v: ViewValue, d: ViewDialect): string {
  if (v.kind === 'text') return d.lit(v.text);
  const column = `${v.from}.${d.q(v.column)}`;
  if (v.cast === 'date') return d.date(column);
  if (v.cast === 'boolean') return d.boolean(column);
  return column;
}

function joinSql(j: ViewJoin, d: ViewDialect): string {
  const code = `${j.from}.${d.q(j.column)}`;
  const key = `${j.alias}.${d.q(j.key)}`;
  const equal = j.asText ? `${d.text(key)} = ${d.text(code)}` : `${key} = ${code}`;
  return (
    `LEFT JOIN ${d.q(j.mirror)} AS ${j.alias} ON ${j.alias}.${d.q(SCHOOL_COLUMN)} = ${BASE}.${d.q(SCHOOL_COLUMN)}` +
    ` AND ${equal} AND ${j.alias}.${d.q(BOOKKEEPING.active)}`
  );
}

function conditionSql(c: ViewCondition, d: ViewDialect): string {
  switch (c.kind) {
    case 'active':
      return `${BASE}.${d.q(BOOKKEEPING.active)}`;
    case 'in':
      return `${BASE}.${d.q(c.column)} IN (${c.values.map(d.lit).join(', ')})`;
    case 'present':
      return `${BASE}.${d.q(c.column)} IS NOT NULL`;
  }
}

function selectSql(s: ViewSelect, d: ViewDialect): string {
  const lines = [
    `SELECT ${s.fields.map((f) => `${valueSql(f.value, d)} AS ${d.q(f.field)}`).join(', ')}`,
    `FROM ${d.q(s.mirror)} AS ${BASE}`,
    ...s.joins.map((j) => joinSql(j, d)),
  ];
  if (s.where.length > 0) lines.push(`WHERE ${s.where.map((c) => conditionSql(c, d)).join(' AND ')}`);
  return lines.join('\n');
}

/** The view's query: its selects joined by UNION ALL. */
export function viewQuerySql(view: ViewDef, d: ViewDialect): string {
  return view.selects.map((s) => selectSql(s, d)).join('\nUNION ALL\n');
}

export function createViewSql(view: ViewDef, d: ViewDialect): string {
  return `CREATE VIEW ${d.q(view.name)} AS\n${viewQuerySql(view, d)}`;
}
