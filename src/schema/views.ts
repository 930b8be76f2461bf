import {
  BUILTIN_VIEWS,
  type LayoutRegistry,
  type TableLayout,
  defaultViewName,
  VIEW_BUILDER_FIELDS,
} from '../layouts/index.js';
import { BOOKKEEPING, mirrorColumnName, mirrorTableName, SCHOOL_COLUMN } from './mirror.js';

/**
 * The friendly views the intranet reads: application field names over the mirror tables. The
 * core tables have built-in views; a user layout's `field_mapping` defines its own view, which
 * replaces a built-in view of the same name.
 */

export interface ViewField {
  /** Application field name, e.g. `studentId` (quoted in SQL: it is mixed case). */
  readonly field: string;
  /** Mirror column (SQL name). */
  readonly column: string;
}

export interface ViewDef {
  readonly name: string;
  /** Base CASES table the view reads. */
  readonly table: string;
  readonly mirror: string;
  readonly fields: readonly ViewField[];
}

/** Names of the built-in views, for docs and tests. */
export const BUILTIN_VIEW_NAMES = Object.keys(BUILTIN_VIEWS);

/** Fields every view gets from the builder, whatever the mapping says. */
const [SCHOOL_FIELD, ACTIVE_FIELD] = VIEW_BUILDER_FIELDS;

function withBookkeeping(name: string, table: string, mapped: Array<[string, string]>): ViewDef {
  return {
    name,
    table,
    mirror: mirrorTableName(table),
    fields: [
      { field: SCHOOL_FIELD, column: SCHOOL_COLUMN },
      ...mapped.map(([field, cases]) => ({ field, column: mirrorColumnName(cases) })),
      { field: ACTIVE_FIELD, column: BOOKKEEPING.active },
    ],
  };
}

/**
 * Every view the registry defines, plus those of `inUse` layouts it keeps apart (the seed's
 * built-in `.DAT` layouts, found by file name: they define views only for a night that has their
 * files, or an eduHub school would lose its `staff` and `families` views). A user layout with a
 * `field_mapping` replaces the built-in view of its table, and any built-in view of the same name.
 */
export function viewsFor(registry: LayoutRegistry, inUse: readonly TableLayout[] = []): ViewDef[] {
  const user: ViewDef[] = [];
  const layouts = new Set([...registry.tables.values(), ...inUse.filter((l) => registry.seedDat.includes(l))]);
  for (const layout of layouts) {
    if (!layout.fieldMapping) continue;
    const name = layout.view ?? defaultViewName(layout.filename, layout.table);
    user.push(
      withBookkeeping(
        name,
        layout.table,
        Object.entries(layout.fieldMapping).map(([cases, field]) => [field, cases]),
      ),
    );
  }
  const taken = new Set(user.map((v) => v.name));
  const replacedTables = new Set(user.map((v) => v.table));
  const builtin = Object.entries(BUILTIN_VIEWS)
    .filter(([name, def]) => !taken.has(name) && !replacedTables.has(def.table))
    .map(([name, def]) => withBookkeeping(name, def.table, Object.entries(def.fields)));
  return [...builtin, ...user];
}

/** The view restricted to the columns its mirror has (a file may not carry every built-in column). */
export function viewOver(view: ViewDef, columns: ReadonlySet<string>): ViewDef {
  return { ...view, fields: view.fields.filter((f) => columns.has(f.column)) };
}
