import {
  BUILTIN_VIEWS,
  builderFields,
  builtinFieldName,
  defaultViewName,
  type LayoutRegistry,
  type TableLayout,
  type ViewNaming,
} from '../layouts/index.js';
import { BOOKKEEPING, mirrorTableName, OWN_COLUMN_DESCRIPTIONS, SCHOOL_COLUMN } from './mirror.js';
import { BASE, mappedFields, ownField } from './view-fields.js';
import { peopleViews } from './view-people.js';
import type { ViewDef, ViewField, ViewSelect } from './view-types.js';

/**
 * The friendly views the intranet reads, over the mirror tables. The core tables have built-in
 * views, named by ETL_VIEW_NAMING, with dates as dates, Y/N flags as booleans and a `_label`
 * beside each code a lookup table describes; `current_students` and `student_contacts` answer the
 * first questions people ask. A user layout's `field_mapping` defines its own view, with exactly
 * its names, which replaces a built-in view of the same name or table.
 */

/** Names of the built-in views over one table each, for docs and tests. */
export const BUILTIN_VIEW_NAMES = Object.keys(BUILTIN_VIEWS);

/** The builder's own first and last fields: the school, and whether the row is still in the export. */
function schoolField(naming: ViewNaming): ViewField {
  return ownField(builderFields(naming).school, SCHOOL_COLUMN, 'text', OWN_COLUMN_DESCRIPTIONS[SCHOOL_COLUMN] ?? '');
}

function activeField(naming: ViewNaming): ViewField {
  const active = OWN_COLUMN_DESCRIPTIONS[BOOKKEEPING.active] ?? '';
  return ownField(builderFields(naming).active, BOOKKEEPING.active, 'boolean', active);
}

/** A view's comment: what its table holds (`Students (CASES21 ST)`), then what the view makes of it. */
function describeView(layout: TableLayout | undefined, table: string, what: string): string {
  const holds = layout?.description ? `${layout.description} (CASES21 ${table})` : `CASES21 table ${table}`;
  return `${holds}: ${what}`;
}

function singleView(
  name: string,
  table: string,
  description: string,
  select: Omit<ViewSelect, 'table' | 'mirror'>,
): ViewDef {
  return { name, table, description, selects: [{ table, mirror: mirrorTableName(table), ...select }] };
}

/** A built-in view over one table: the seed's fields under `naming`, with labels. */
function builtinView(registry: LayoutRegistry, name: string, table: string, naming: ViewNaming): ViewDef {
  const def = BUILTIN_VIEWS[name];
  const mapping = Object.entries(def?.fields ?? {}).map(
    ([camel, cases]) => [builtinFieldName(camel, naming), cases] as const,
  );
  const { fields, joins } = mappedFields(registry, registry.layoutFor(table), table, mapping, { naming, labels: true });
  const description = describeView(
    registry.layoutFor(table),
    table,
    'one row per row of the mirror, inactive ones included (active is false once a row has left the export).',
  );
  return singleView(name, table, description, {
    joins,
    where: [],
    fields: [schoolField(naming), ...fields, activeField(naming)],
  });
}

/** The view a user layout's `field_mapping` defines: its names exactly as written, typed, without labels. */
function userView(registry: LayoutRegistry, layout: TableLayout, naming: ViewNaming): ViewDef | null {
  if (!layout.fieldMapping) return null;
  const name = layout.view ?? defaultViewName(layout.filename, layout.table);
  const mapping = Object.entries(layout.fieldMapping).map(([cases, field]) => [field, cases] as const);
  // The layout's own columns, not the table's registered layout: a .DAT layout describes its own file.
  const { fields } = mappedFields(registry, layout, layout.table, mapping, { naming, labels: false });
  const description = describeView(layout, layout.table, `the view ${layout.originDetail} defines.`);
  return singleView(name, layout.table, description, {
    joins: [],
    where: [],
    fields: [schoolField(naming), ...fields, activeField(naming)],
  });
}

/**
 * Every view the registry defines, plus those of `inUse` layouts it keeps apart (the seed's
 * built-in `.DAT` layouts, found by file name: they define views only for a night that has their
 * files, or an eduHub school would lose its `staff` and `families` views). A user layout with a
 * `field_mapping` replaces the built-in view of its table, and any built-in view of the same name.
 */
export function viewsFor(
  registry: LayoutRegistry,
  inUse: readonly TableLayout[] = [],
  naming: ViewNaming = 'snake',
): ViewDef[] {
  const layouts = new Set([...registry.tables.values(), ...inUse.filter((l) => registry.seedDat.includes(l))]);
  const user = [...layouts].flatMap((layout) => userView(registry, layout, naming) ?? []);
  const taken = new Set(user.map((v) => v.name));
  const replacedTables = new Set(user.map((v) => v.table));
  const builtin = Object.entries(BUILTIN_VIEWS)
    .filter(([name, def]) => !taken.has(name) && !replacedTables.has(def.table))
    .map(([name, def]) => builtinView(registry, name, def.table, naming));
  const people = peopleViews(registry, naming, schoolField(naming)).filter((v) => !taken.has(v.name));
  return [...builtin, ...people, ...user];
}

/** The mirror tables a view reads: its base tables and every table it joins. */
export function viewMirrors(view: ViewDef): string[] {
  return [...new Set(view.selects.flatMap((s) => [s.mirror, ...s.joins.map((j) => j.mirror)]))];
}

/** Columns each mirror table has (SQL names); undefined for a table that does not exist. */
export type MirrorColumns = (mirror: string) => ReadonlySet<string> | undefined;

/** A select restricted to what exists, or null when its base table or a column it filters on is missing. */
function selectOver(select: ViewSelect, columnsOf: MirrorColumns): ViewSelect | null {
  const base = columnsOf(select.mirror);
  if (base === undefined) return null;
  if (!select.where.every((c) => c.kind === 'active' || base.has(c.column))) return null;
  // A join needs its table, with the school, the key and the active flag, and the code to join on.
  const joins = select.joins.filter((j) => {
    const joined = columnsOf(j.mirror);
    return (
      joined?.has(j.key) === true && joined.has(SCHOOL_COLUMN) && joined.has(BOOKKEEPING.active) && base.has(j.column)
    );
  });
  return { ...select, joins };
}

/** The mirror a select's relation `from` reads: its base table's, or a join's. */
function relationOf(select: ViewSelect, from: string): string | undefined {
  return from === BASE ? select.mirror : select.joins.find((j) => j.alias === from)?.mirror;
}

/** Whether a field's value can be read in `select` as the database stands. */
function readable(select: ViewSelect, field: ViewField | undefined, columnsOf: MirrorColumns): boolean {
  if (field === undefined) return false;
  if (field.value.kind === 'text') return true;
  const relation = relationOf(select, field.value.from);
  return relation !== undefined && columnsOf(relation)?.has(field.value.column) === true;
}

/** A field over one of the base table's CASES columns (not the school or bookkeeping). */
const isOwnColumn = (f: ViewField): boolean =>
  f.value.kind === 'column' &&
  f.value.from === BASE &&
  f.value.column !== SCHOOL_COLUMN &&
  !f.value.column.startsWith('_');

/**
 * The view restricted to what the database has: the columns its mirrors have (a file may not
 * carry every built-in column) and the lookup tables the school has exported (a label whose
 * table was never loaded is left out until it is). Null when its base table does not exist yet,
 * or none of the view's own columns does (a table another layout made, such as the seed's .DAT).
 */
export function viewOver(view: ViewDef, columnsOf: MirrorColumns): ViewDef | null {
  const selects = view.selects.flatMap((s) => selectOver(s, columnsOf) ?? []);
  const first = selects[0];
  if (first === undefined) return null;
  // A union's field is kept only where every select can read it.
  const keep = first.fields.map((_, i) => selects.every((s) => readable(s, s.fields[i], columnsOf)));
  if (!first.fields.some((f, i) => keep[i] && isOwnColumn(f))) return null;
  return {
    ...view,
    selects: selects.map((s) => {
      const fields = s.fields.filter((_, i) => keep[i]);
      const used = new Set(fields.flatMap((f) => (f.value.kind === 'column' ? [f.value.from] : [])));
      return { ...s, fields, joins: s.joins.filter((j) => used.has(j.alias)) };
    }),
  };
}

export type {
  ViewCast,
  ViewCondition,
  ViewDef,
  ViewField,
  ViewJoin,
  ViewSelect,
  ViewType,
  ViewValue,
} from './view-types.js';
