import { access } from 'node:fs/promises';

import { compareText } from '../util/index.js';
import { loadBuiltinLayouts } from './builtin.js';
import {
  baseTableOf,
  formatJsonPath,
  inferFormat,
  readRelationshipsJson,
  type FileLayoutInput,
  type RelationshipInput,
  type RelationshipsFile,
} from './relationships.js';
import { loadSeedDatLayouts } from './seed-dat.js';
import type { ColumnLayout, ColumnType, KeyRule, TableLayout } from './types.js';

/**
 * Every layout cases-etl knows, from three sources in rising priority: the profile tables named
 * in relationships.json `primary_keys` (columns come from the file's header), the 321 built-in
 * layouts (and the seed's four built-in `.DAT` layouts, by file name), and relationships.json
 * `file_layouts`, which win for their file and table.
 */
export interface LayoutRegistry {
  /** Path of the relationships.json that was loaded, or null for built-ins only. */
  readonly relationshipsPath: string | null;
  readonly relationships: readonly RelationshipInput[];
  /** All layouts by base table name, sorted by table. */
  readonly tables: ReadonlyMap<string, TableLayout>;
  /**
   * The seed's built-in `.DAT` layouts (STUDENT.DAT, STAFF.DAT, ENROL.DAT, PARENT.DAT) that no
   * `file_layouts` entry replaced. They are matched by file name only and are not in `tables`.
   */
  readonly seedDat: readonly TableLayout[];
  /**
   * The tables of the seed's four `.DAT` files, as their layouts in effect name them (`DF`, `SF`,
   * `ENROL`, `PARENT`): all required when a file set uses one of the built-in `.DAT` layouts.
   */
  readonly seedDatTables: readonly string[];
  /** The layout for a base table (`ST`) or table id (`ST_8865`), case-insensitive. */
  layoutFor(table: string): TableLayout | undefined;
  /** The fixed-width (or named) layout whose file name is `fileName`, case-insensitive. */
  layoutForFileName(fileName: string): TableLayout | undefined;
}

type ResolvedKey =
  | { readonly key: readonly string[]; readonly rule: KeyRule; readonly problem: null }
  | { readonly key: null; readonly rule: null; readonly problem: string };

/**
 * The key rule, in order: the layout's own primary_key; the built-in key when its columns are in
 * the layout; the layout's first column when the profile (`primary_keys`) found it unique (the
 * seed's STUDENT.DAT names no key, and its first column CASES_KEY is unique in DF_8865); the
 * profile's `<TABLE>KEY`, then `TID`. Candidates must be columns the layout has (when it lists
 * columns at all). Returns the key and the rule that chose it, or why there is none.
 */
function resolveKey(
  table: string,
  own: readonly string[] | null,
  columns: readonly ColumnLayout[],
  builtin: TableLayout | undefined,
  candidates: readonly string[],
  where: string,
): ResolvedKey {
  if (own) return { key: own, rule: 'layout', problem: null };
  const has = (col: string): boolean => columns.length === 0 || columns.some((c) => c.name === col);
  if (builtin?.primaryKey && builtin.primaryKey.every(has))
    return { key: builtin.primaryKey, rule: 'builtin', problem: null };
  const first = columns[0]?.name;
  if (first !== undefined && candidates.includes(first))
    return { key: [first], rule: 'profile-first-column', problem: null };
  if (candidates.includes(`${table}KEY`) && has(`${table}KEY`))
    return { key: [`${table}KEY`], rule: 'table-key', problem: null };
  if (candidates.includes('TID') && has('TID')) return { key: ['TID'], rule: 'tid', problem: null };
  const present = candidates.filter(has);
  const hint = present.length > 0 ? ` The profile's unique columns for ${table} are ${present.join(', ')}.` : '';
  const builtinText = builtin?.primaryKey
    ? ` it can use (${builtin.primaryKey.join(', ')} is not among its columns)`
    : '';
  const firstText = first !== undefined ? `its first column ${first} is not among the profile's unique columns, ` : '';
  return {
    key: null,
    rule: null,
    problem:
      `table ${table} (${where}) has no primary key: no primary_key in its layout, no built-in key${builtinText}, ` +
      `${firstText}and primary_keys lists neither ${table}KEY nor TID for it.${hint} Add "primary_key": ["COLUMN"] to its file layout.`,
  };
}

function profileCandidates(file: RelationshipsFile | null): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [tableSite, cols] of Object.entries(file?.primaryKeys ?? {})) {
    const table = baseTableOf(tableSite);
    const list = out.get(table) ?? [];
    for (const c of cols) if (!list.includes(c)) list.push(c);
    out.set(table, list);
  }
  return out;
}

/**
 * A user layout's columns. A fixed-width layout describes its own file: a column without `type`
 * is text as wide as its field, whatever the built-in table of the same name says (the seed's
 * STUDENT.DAT has HOMEKEY = home group `7A`, where eduHub's DF.HOMEKEY is an address number).
 * A CSV layout is the eduHub table itself, so its untyped columns take the built-in column's facts.
 */
function userColumns(
  input: FileLayoutInput,
  format: 'csv' | 'fixed',
  builtin: TableLayout | undefined,
  keys: ReadonlySet<string>,
): ColumnLayout[] {
  return input.columns.map((c) => {
    const name = c.name.toUpperCase();
    if (format === 'fixed') {
      const type: ColumnType = c.type ?? 'string';
      const textual = type === 'string' || type === 'flag';
      return {
        name,
        type,
        maxLength: textual ? (c.max_length ?? c.width ?? null) : null,
        format: c.format ?? 'auto',
        required: c.required ?? keys.has(name),
        start: c.start ?? null,
        width: c.width ?? null,
        references: null,
        description: c.description ?? null,
      };
    }
    const inherited = builtin?.columns.find((b) => b.name === name);
    const type: ColumnType = c.type ?? inherited?.type ?? 'string';
    const textual = type === 'string' || type === 'flag';
    return {
      name,
      type,
      maxLength: textual ? (c.max_length ?? inherited?.maxLength ?? null) : null,
      format: c.format ?? inherited?.format ?? 'auto',
      required: c.required ?? (keys.has(name) || (inherited?.required ?? false)),
      start: null,
      width: null,
      references: inherited?.references ?? null,
      description: c.description ?? inherited?.description ?? null,
    };
  });
}

/** Where a user layout came from: the school's relationships.json, or the seed's built-in `.DAT` layouts. */
interface UserLayoutSource {
  readonly origin: 'relationships' | 'builtin';
  readonly where: string;
}

function userLayout(
  key: string,
  input: FileLayoutInput,
  builtin: TableLayout | undefined,
  candidates: readonly string[],
  source: UserLayoutSource,
): TableLayout {
  const table = baseTableOf(input.table_name);
  const format = inferFormat(input, key);
  const own =
    input.primary_key === undefined
      ? null
      : (typeof input.primary_key === 'string' ? [input.primary_key] : input.primary_key).map((k) => k.toUpperCase());
  const draftColumns = userColumns(input, format, builtin, new Set(own ?? []));
  const resolved = resolveKey(table, own, draftColumns, builtin, candidates, source.where);
  const keySet = new Set(resolved.key ?? []);
  const columns = draftColumns.map((c) => (keySet.has(c.name) && !c.required ? { ...c, required: true } : c));
  const fieldMapping = input.field_mapping
    ? Object.fromEntries(Object.entries(input.field_mapping).map(([k, v]) => [k.toUpperCase(), v]))
    : null;
  return {
    table,
    origin: source.origin,
    originDetail: source.where,
    format,
    // CASES21 runs on Windows: both its CSV and fixed-width exports are ANSI unless the layout says so.
    encoding: input.encoding ?? 'windows-1252',
    filename: format === 'fixed' || input.filename !== undefined ? (input.filename ?? key) : null,
    tableName: input.table_name.toUpperCase(),
    primaryKey: resolved.key,
    keyProblem: resolved.problem,
    keyRule: resolved.rule,
    columns,
    openColumns: format === 'csv',
    fieldMapping,
    view: input.view ?? null,
    mode: input.mode ?? null,
    required: input.required ?? false,
    // The built-in table's description fits a CSV of that table, not a file that only borrows its name.
    description: input.description ?? (format === 'csv' ? (builtin?.description ?? null) : null),
    candidateKeys: candidates,
  };
}

function profileLayout(table: string, candidates: readonly string[]): TableLayout {
  const where = `relationships.json primary_keys (profile only; columns come from the file header)`;
  const resolved = resolveKey(table, null, [], undefined, candidates, where);
  return {
    table,
    origin: 'profile',
    originDetail: where,
    format: 'csv',
    encoding: 'windows-1252',
    filename: null,
    tableName: null,
    primaryKey: resolved.key,
    keyProblem: resolved.problem,
    keyRule: resolved.rule,
    columns: [],
    openColumns: true,
    fieldMapping: null,
    view: null,
    mode: null,
    required: false,
    description: null,
    candidateKeys: candidates,
  };
}

/** Builds the registry from an already-read relationships.json (or none). Pure. */
export function createLayoutRegistry(file: RelationshipsFile | null): LayoutRegistry {
  const builtins = loadBuiltinLayouts();
  const candidates = profileCandidates(file);
  const tables = new Map<string, TableLayout>();

  for (const [table, cands] of candidates) {
    if (!builtins.has(table)) tables.set(table, profileLayout(table, cands));
  }
  for (const [table, layout] of builtins) {
    tables.set(table, { ...layout, candidateKeys: candidates.get(table) ?? [] });
  }
  const userFiles = new Set<string>();
  for (const [key, input] of Object.entries(file?.fileLayouts ?? {})) {
    const table = baseTableOf(input.table_name);
    const where = `relationships.json ${formatJsonPath(['file_layouts', key])}`;
    tables.set(
      table,
      userLayout(key, input, builtins.get(table), candidates.get(table) ?? [], { origin: 'relationships', where }),
    );
    userFiles.add((input.filename ?? key).toLowerCase());
  }

  const sorted = new Map([...tables.entries()].sort(([a], [b]) => compareText(a, b)));
  const byFileName = new Map<string, TableLayout>();
  // The seed's .DAT layouts are found by file name only: STUDENT.DAT is table DF, and taking
  // DF's place in `tables` would read eduHub's DF_8865.csv as fixed-width. A school's own
  // file_layouts entry for the same file name wins.
  const seedDat: TableLayout[] = [];
  for (const [key, input] of Object.entries(loadSeedDatLayouts())) {
    const name = (input.filename ?? key).toLowerCase();
    if (userFiles.has(name)) continue;
    const table = baseTableOf(input.table_name);
    const where = `built-in layout (data/seed-dat-layouts.json file_layouts[${JSON.stringify(key)}], the seed's fixed-width export)`;
    const layout = userLayout(key, input, builtins.get(table), candidates.get(table) ?? [], {
      origin: 'builtin',
      where,
    });
    seedDat.push(layout);
    byFileName.set(name, layout);
  }
  for (const layout of sorted.values()) if (layout.filename) byFileName.set(layout.filename.toLowerCase(), layout);
  const seedDatFiles = Object.entries(loadSeedDatLayouts()).map(([key, input]) => input.filename ?? key);

  return {
    relationshipsPath: file?.path ?? null,
    relationships: file?.relationships ?? [],
    tables: sorted,
    seedDat,
    seedDatTables: seedDatFiles.map((name) => byFileName.get(name.toLowerCase())?.table ?? '').filter((t) => t !== ''),
    // A table's own name first: ST_TFR is a table of its own, not ST of site TFR.
    layoutFor: (table) => sorted.get(table.toUpperCase()) ?? sorted.get(baseTableOf(table)),
    layoutForFileName: (fileName) => byFileName.get(fileName.toLowerCase()),
  };
}

/**
 * Loads layouts: built-ins, plus relationships.json at `path` when given. A missing file is not
 * an error only when `optional` is set (the default path `./relationships.json` is optional; a
 * path the user named is not).
 */
export async function loadLayouts(path: string | null, options: { optional?: boolean } = {}): Promise<LayoutRegistry> {
  if (path === null) return createLayoutRegistry(null);
  if (options.optional) {
    try {
      await access(path);
    } catch {
      return createLayoutRegistry(null);
    }
  }
  return createLayoutRegistry(await readRelationshipsJson(path));
}
