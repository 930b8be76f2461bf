import { access } from 'node:fs/promises';

import { loadBuiltinLayouts } from './builtin.js';
import { baseTableOf, formatJsonPath, inferFormat, readRelationshipsJson, type FileLayoutInput, type RelationshipInput, type RelationshipsFile } from './relationships.js';
import type { ColumnLayout, ColumnType, TableLayout } from './types.js';

/**
 * Every layout cases-etl knows, from three sources in rising priority: the profile tables named
 * in relationships.json `primary_keys` (columns come from the file's header), the 22 built-in
 * layouts, and relationships.json `file_layouts`, which win for their file and table.
 */
export interface LayoutRegistry {
  /** Path of the relationships.json that was loaded, or null for built-ins only. */
  readonly relationshipsPath: string | null;
  readonly relationships: readonly RelationshipInput[];
  /** All layouts by base table name, sorted by table. */
  readonly tables: ReadonlyMap<string, TableLayout>;
  /** The layout for a base table (`ST`) or table id (`ST_8865`), case-insensitive. */
  layoutFor(table: string): TableLayout | undefined;
  /** The fixed-width (or named) layout whose file name is `fileName`, case-insensitive. */
  layoutForFileName(fileName: string): TableLayout | undefined;
}

/** Profile columns that can serve as a key, in order of preference. */
const KEY_SUFFIXES = ['KEY', 'TID'] as const;

/**
 * The key rule: the layout's own primary_key; else the built-in key; else, from the profile's
 * candidate columns, `<TABLE>KEY` or `TID`. Candidates must be columns the layout has (when it
 * lists columns at all). Returns the key or why there is none.
 */
function resolveKey(
  table: string,
  own: readonly string[] | null,
  columns: readonly ColumnLayout[],
  builtin: TableLayout | undefined,
  candidates: readonly string[],
  where: string,
): { key: readonly string[]; problem: null } | { key: null; problem: string } {
  if (own) return { key: own, problem: null };
  const has = (col: string): boolean => columns.length === 0 || columns.some((c) => c.name === col);
  if (builtin?.primaryKey && builtin.primaryKey.every(has)) return { key: builtin.primaryKey, problem: null };
  for (const suffix of KEY_SUFFIXES) {
    const col = suffix === 'KEY' ? `${table}KEY` : 'TID';
    if (candidates.includes(col) && has(col)) return { key: [col], problem: null };
  }
  const present = candidates.filter(has);
  const hint = present.length > 0 ? ` The profile's unique columns for ${table} are ${present.join(', ')}.` : '';
  return {
    key: null,
    problem:
      `table ${table} (${where}) has no primary key: no primary_key in its layout, no built-in key` +
      `${builtin?.primaryKey ? ` it can use (${builtin.primaryKey.join(', ')} is not among its columns)` : ''}, ` +
      `and primary_keys lists neither ${table}KEY nor TID for it.${hint} Add "primary_key": ["COLUMN"] to its file layout.`,
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

function userColumns(input: FileLayoutInput, format: 'csv' | 'fixed', builtin: TableLayout | undefined, keys: ReadonlySet<string>): ColumnLayout[] {
  return input.columns.map((c) => {
    const name = c.name.toUpperCase();
    const inherited = builtin?.columns.find((b) => b.name === name);
    const type: ColumnType = c.type ?? inherited?.type ?? 'string';
    const textual = type === 'string' || type === 'flag';
    const maxLength = textual ? (c.max_length ?? (format === 'fixed' ? (c.width ?? null) : (inherited?.maxLength ?? null))) : null;
    return {
      name,
      type,
      maxLength,
      format: c.format ?? (format === 'fixed' ? 'auto' : (inherited?.format ?? 'auto')),
      required: c.required ?? (keys.has(name) || (inherited?.required ?? false)),
      start: format === 'fixed' ? (c.start ?? null) : null,
      width: format === 'fixed' ? (c.width ?? null) : null,
      references: inherited?.references ?? null,
      description: c.description ?? inherited?.description ?? null,
    };
  });
}

function userLayout(key: string, input: FileLayoutInput, builtin: TableLayout | undefined, candidates: readonly string[]): TableLayout {
  const table = baseTableOf(input.table_name);
  const format = inferFormat(input, key);
  const where = `relationships.json ${formatJsonPath(['file_layouts', key])}`;
  const own = input.primary_key === undefined ? null : (typeof input.primary_key === 'string' ? [input.primary_key] : input.primary_key).map((k) => k.toUpperCase());
  const draftColumns = userColumns(input, format, builtin, new Set(own ?? []));
  const resolved = resolveKey(table, own, draftColumns, builtin, candidates, where);
  const keySet = new Set(resolved.key ?? []);
  const columns = draftColumns.map((c) => (keySet.has(c.name) && !c.required ? { ...c, required: true } : c));
  const fieldMapping = input.field_mapping ? Object.fromEntries(Object.entries(input.field_mapping).map(([k, v]) => [k.toUpperCase(), v])) : null;
  return {
    table,
    origin: 'relationships',
    originDetail: where,
    format,
    // CASES21 runs on Windows: both its CSV and fixed-width exports are ANSI unless the layout says so.
    encoding: input.encoding ?? 'windows-1252',
    filename: format === 'fixed' || input.filename !== undefined ? (input.filename ?? key) : null,
    tableName: input.table_name.toUpperCase(),
    primaryKey: resolved.key,
    keyProblem: resolved.problem,
    columns,
    openColumns: format === 'csv',
    fieldMapping,
    view: input.view ?? null,
    mode: input.mode ?? null,
    required: input.required ?? false,
    description: input.description ?? builtin?.description ?? null,
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
  for (const [key, input] of Object.entries(file?.fileLayouts ?? {})) {
    const table = baseTableOf(input.table_name);
    tables.set(table, userLayout(key, input, builtins.get(table), candidates.get(table) ?? []));
  }

  const sorted = new Map([...tables.entries()].sort(([a], [b]) => a.localeCompare(b)));
  const byFileName = new Map<string, TableLayout>();
  for (const layout of sorted.values()) if (layout.filename) byFileName.set(layout.filename.toLowerCase(), layout);

  return {
    relationshipsPath: file?.path ?? null,
    relationships: file?.relationships ?? [],
    tables: sorted,
    layoutFor: (table) => sorted.get(baseTableOf(table)),
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
