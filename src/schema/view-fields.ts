import {
  labelFieldName,
  type ColumnLayout,
  type ColumnType,
  type LayoutRegistry,
  type TableLayout,
  type ViewNaming,
} from '../layouts/index.js';
import { mirrorColumnName, mirrorTableName } from './mirror.js';
import type { ViewCast, ViewField, ViewJoin, ViewType, ViewValue } from './view-types.js';

/**
 * What a view column is made of, decided from the schema's own facts: whether a CASES datetime is
 * a date, whether a one-letter code is a Y/N flag, and which lookup table describes a code. The
 * mirror keeps every value as the file had it; only the views read them this way.
 */

/** The alias of a view's base table in its SQL. */
export const BASE = 't';

/**
 * A datetime that carries a time of day: named so (LW_DATE, *_TIME, TIME_*, TIMESTAMP, DATETIME)
 * or described so ("Date/time of last change"). Every other CASES datetime is written at midnight
 * (`9/05/2024 12:00:00 AM`) and is a date.
 */
export function carriesTime(col: Pick<ColumnLayout, 'name' | 'description'>): boolean {
  return /(^|_)LW_DATE$|TIME/.test(col.name) || /\btime/i.test(col.description ?? '');
}

/**
 * A Y/N flag: one character whose description says it holds Y or N, such as "Proof of birthdate
 * sighted? (Y/N)". Codes with a third value (Y/N/U, "Y/N or U=Unknown", Y=Yes N=No S=Sometimes)
 * and Y-or-blank marks stay text, as do GENDER and the other one-letter codes.
 */
const YES_NO = /\(Y\/N\)|\bY\/N\b(?!\s*\/| or )|\bYes\s*(?:\/|or)\s*No\b|=\s*Y or N\b/i;

export function isYesNo(col: Pick<ColumnLayout, 'type' | 'maxLength' | 'description'>): boolean {
  const oneLetter = col.type === 'flag' || (col.type === 'string' && col.maxLength === 1);
  return oneLetter && YES_NO.test(col.description ?? '');
}

/** How a view reads a column: a datetime without a time as a date, a Y/N flag as a boolean. */
export function castOf(col: ColumnLayout | undefined): ViewCast {
  if (col === undefined) return 'none';
  if (col.type === 'datetime' && !carriesTime(col)) return 'date';
  return isYesNo(col) ? 'boolean' : 'none';
}

const TYPES: Record<ColumnType, ViewType> = {
  string: 'text',
  flag: 'text',
  smallint: 'integer',
  int: 'integer',
  decimal: 'numeric',
  float: 'real',
  date: 'date',
  datetime: 'timestamp',
  bytes: 'bytes',
};

export function viewTypeOf(col: ColumnLayout | undefined, cast: ViewCast): ViewType {
  if (cast === 'date') return 'date';
  if (cast === 'boolean') return 'boolean';
  return col === undefined ? 'text' : TYPES[col.type];
}

/** A column of a layout by its CASES name (any case). */
export function columnOf(layout: TableLayout | undefined, casesName: string): ColumnLayout | undefined {
  const upper = casesName.toUpperCase();
  return layout?.columns.find((c) => c.name === upper);
}

/** The view field over one CASES column of the relation `from`, typed and described from its layout. */
export function columnField(
  layout: TableLayout | undefined,
  table: string,
  casesName: string,
  field: string,
  from = BASE,
): ViewField {
  const col = columnOf(layout, casesName);
  const cast = castOf(col);
  const where = `${table}.${casesName.toUpperCase()}`;
  const meaning = col?.description ? `${col.description} (${where})` : where;
  return {
    field,
    value: { kind: 'column', from, column: mirrorColumnName(casesName), cast },
    type: viewTypeOf(col, cast),
    description: cast === 'boolean' ? `${meaning}: true for Y, false for N` : meaning,
  };
}

/** A field from a column of the view's own mirror, known by SQL name (school_id, _active). */
export function ownField(field: string, column: string, type: ViewType, description: string): ViewField {
  const value: ViewValue = { kind: 'column', from: BASE, column, cast: 'none' };
  return { field, value, type, description };
}

/** A constant text column. */
export function textField(field: string, text: string, description: string): ViewField {
  return { field, value: { kind: 'text', text }, type: 'text', description };
}

/** The lookup that describes a coded column, when there is one a label can be joined from. */
interface Lookup {
  readonly table: string;
  readonly layout: TableLayout;
  readonly key: string;
  readonly asText: boolean;
}

/**
 * The lookup table a column's codes are described in: the table its `references` names (ST.HOUSE →
 * KGH.KGHKEY), when that column is the table's whole key (so the join finds at most one row per
 * school) and the table has a DESCRIPTION column. The key and the code are compared as text when
 * their types differ.
 */
function lookupOf(registry: LayoutRegistry, col: ColumnLayout | undefined): Lookup | null {
  const [table, key] = col?.references?.split('.') ?? [];
  if (col === undefined || table === undefined || key === undefined) return null;
  const layout = registry.layoutFor(table);
  if (layout === undefined || layout.primaryKey?.length !== 1 || layout.primaryKey[0] !== key) return null;
  if (columnOf(layout, 'DESCRIPTION') === undefined) return null;
  return { table: layout.table, layout, key, asText: columnOf(layout, key)?.type !== col.type };
}

/**
 * A field's label: the lookup row's DESCRIPTION beside the code, joined as `alias` (LEFT JOIN on
 * the school, the code and the lookup row being active, so a code without a lookup row keeps its
 * row and reads a null label). Null when the column has no lookup to join.
 */
export function labelFor(
  registry: LayoutRegistry,
  layout: TableLayout | undefined,
  casesName: string,
  field: string,
  naming: ViewNaming,
  alias: string,
): { readonly join: ViewJoin; readonly field: ViewField } | null {
  const lookup = lookupOf(registry, columnOf(layout, casesName));
  if (lookup === null) return null;
  const join: ViewJoin = {
    alias,
    table: lookup.table,
    mirror: mirrorTableName(lookup.table),
    key: mirrorColumnName(lookup.key),
    from: BASE,
    column: mirrorColumnName(casesName),
    asText: lookup.asText,
  };
  const what = lookup.layout.description ?? lookup.table;
  const label = columnField(lookup.layout, lookup.table, 'DESCRIPTION', labelFieldName(field, naming), alias);
  return {
    join,
    field: {
      ...label,
      description: `What ${field} means: ${what} (${lookup.table}.DESCRIPTION); null when ${lookup.table} has no active row for the code`,
    },
  };
}

/**
 * The fields (and label joins) of a table's view: each CASES column under its field name, with
 * its label right after it when `labels` and a lookup table describes its codes.
 */
export function mappedFields(
  registry: LayoutRegistry,
  layout: TableLayout | undefined,
  table: string,
  mapping: ReadonlyArray<readonly [field: string, cases: string]>,
  options: { readonly naming: ViewNaming; readonly labels: boolean },
): { fields: ViewField[]; joins: ViewJoin[] } {
  const fields: ViewField[] = [];
  const joins: ViewJoin[] = [];
  const names = new Set(mapping.map(([field]) => field));
  for (const [field, cases] of mapping) {
    fields.push(columnField(layout, table, cases, field));
    if (!options.labels) continue;
    const label = labelFor(registry, layout, cases, field, options.naming, `l${joins.length + 1}`);
    // A label never hides a field of the same name.
    if (label === null || names.has(label.field.field)) continue;
    fields.push(label.field);
    joins.push(label.join);
  }
  return { fields, joins };
}
