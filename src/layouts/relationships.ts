import { readFile } from 'node:fs/promises';

import { z } from 'zod';

import { coerceError, EtlError } from '../errors/index.js';
import { isSupportedEncoding } from '../util/index.js';
import { BUILTIN_VIEW_TABLES } from './builtin-views.js';
import {
  defaultViewName,
  isReservedColumnName,
  MAX_NAME_BYTES,
  RESERVED_COLUMN_REASON,
  reservedViewPrefix,
  sqlNameProblem,
} from './sql-names.js';
import { VIEW_BUILDER_FIELDS } from './view-naming.js';
import { COLUMN_TYPES, DATE_FORMATS } from './types.js';

/**
 * relationships.json as the school's tools write it (`primary_keys`, `relationships`) plus the
 * seed's optional `file_layouts` and our documented extensions. Checked once, at load, with every
 * problem reported together under its JSON path.
 */

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TABLE_NAME = /^[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)?$/;

/** zod's default messages ("Invalid input: expected …") are replaced by ones a school IT person can act on. */
function typed(expected: string): { error: (issue: { input?: unknown }) => string } {
  return { error: (issue) => (issue.input === undefined ? 'is required' : `must be ${expected}`) };
}

const positiveInt = z.int(typed('a positive integer')).positive({ error: 'must be a positive integer' });
const nonNegativeInt = z.int(typed('an integer of 0 or more')).min(0, { error: 'must be an integer of 0 or more' });
const nonEmptyString = z.string(typed('a string')).min(1, { error: 'must not be empty' });
const columnName = nonEmptyString.regex(IDENT, { error: 'must be a column name (letters, digits and _)' });

function strictObject<T extends z.core.$ZodLooseShape>(shape: T) {
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `has unknown ${issue.keys.length === 1 ? 'property' : 'properties'} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`
        : issue.input === undefined
          ? 'is required'
          : 'must be an object',
  });
}

const columnSchema = strictObject({
  name: columnName,
  start: nonNegativeInt.optional(),
  width: positiveInt.optional(),
  type: z.enum(COLUMN_TYPES, { error: `must be one of ${COLUMN_TYPES.join(', ')}` }).optional(),
  format: z.enum(DATE_FORMATS, { error: `must be one of ${DATE_FORMATS.join(', ')}` }).optional(),
  required: z.boolean(typed('true or false')).optional(),
  max_length: positiveInt.optional(),
  description: z.string(typed('a string')).optional(),
});

const fileLayoutSchema = strictObject({
  filename: nonEmptyString.optional(),
  table_name: nonEmptyString.regex(TABLE_NAME, { error: 'must be a CASES table name such as DF_8865 or ST' }),
  format: z.enum(['csv', 'fixed'], { error: 'must be "csv" or "fixed"' }).optional(),
  encoding: nonEmptyString
    .refine(isSupportedEncoding, { error: 'must be an encoding Node can decode (windows-1252, utf-8, …)' })
    .optional(),
  primary_key: z
    .union([columnName, z.array(columnName).min(1)], { error: 'must be a column name or a non-empty list of them' })
    .optional(),
  columns: z.array(columnSchema, typed('a list of columns')).min(1, { error: 'must list at least one column' }),
  field_mapping: z
    .record(
      z.string(),
      nonEmptyString.regex(IDENT, { error: 'must be a field name (letters, digits and _)' }),
      typed('an object of CASES column to field name'),
    )
    .optional(),
  required: z.boolean(typed('true or false')).optional(),
  view: nonEmptyString.regex(IDENT, { error: 'must be a view name (letters, digits and _)' }).optional(),
  mode: z.enum(['full', 'delta'], { error: 'must be "full" or "delta"' }).optional(),
  description: z.string(typed('a string')).optional(),
});

const relationshipSchema = z.object(
  { from_table: nonEmptyString, from_column: nonEmptyString, to_table: nonEmptyString, to_pk: nonEmptyString },
  typed('an object'),
);

export type ColumnInput = z.infer<typeof columnSchema>;
export type FileLayoutInput = z.infer<typeof fileLayoutSchema>;
export type RelationshipInput = z.infer<typeof relationshipSchema>;

export interface RelationshipsFile {
  /** Path the file was read from. */
  readonly path: string;
  /** `TABLE_SITE` to columns found unique in the data profile (candidate keys, not one composite key). */
  readonly primaryKeys: Readonly<Record<string, readonly string[]>>;
  readonly relationships: readonly RelationshipInput[];
  /** Keyed as in the file (usually the file name). */
  readonly fileLayouts: Readonly<Record<string, FileLayoutInput>>;
}

/** Renders a JSON path the way people write it: `file_layouts["STUDENT.DAT"].columns[3].width`. */
export function formatJsonPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && IDENT.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out === '' ? '(top level)' : out;
}

function zodProblems(error: z.ZodError, prefix: readonly PropertyKey[]): string[] {
  return error.issues.map((issue) => `${formatJsonPath([...prefix, ...issue.path])} ${issue.message}`);
}

/** Inferred file format: explicit `format`, else `.csv` means CSV, else positions mean fixed-width. */
export function inferFormat(layout: { format?: unknown; filename?: unknown }, key: string): 'csv' | 'fixed' {
  if (layout.format === 'csv' || layout.format === 'fixed') return layout.format;
  const name = (typeof layout.filename === 'string' ? layout.filename : key).toLowerCase();
  return name.endsWith('.csv') ? 'csv' : 'fixed';
}

interface LooseColumn {
  name?: unknown;
  start?: unknown;
  width?: unknown;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/**
 * Rules zod cannot express: positions that overlap, names used twice, mappings and keys naming
 * no column. Works on the raw JSON, skipping what is malformed (zod reports that), so a file
 * gets both kinds of problem in one report.
 */
function semanticProblems(key: string, raw: Record<string, unknown>): string[] {
  const at = (...path: PropertyKey[]): string => formatJsonPath(['file_layouts', key, ...path]);
  const problems: string[] = [];
  const columns: LooseColumn[] = Array.isArray(raw.columns)
    ? (raw.columns as unknown[]).map((c) => (typeof c === 'object' && c !== null ? (c as LooseColumn) : {}))
    : [];
  const format = inferFormat(raw, key);
  const names = new Map<string, number>();
  columns.forEach((col, i) => {
    if (typeof col.name !== 'string') return;
    const sqlProblem = col.name === '' ? null : sqlNameProblem(col.name);
    if (sqlProblem !== null) problems.push(`${at('columns', i, 'name')} ${sqlProblem}`);
    if (isReservedColumnName(col.name))
      problems.push(`${at('columns', i, 'name')} "${col.name}" is a reserved name: ${RESERVED_COLUMN_REASON}`);
    const upper = col.name.toUpperCase();
    const first = names.get(upper);
    if (first !== undefined)
      problems.push(`${at('columns', i, 'name')} repeats column "${col.name}" (first at columns[${first}])`);
    else names.set(upper, i);
    if (format === 'fixed') {
      if (col.start === undefined) problems.push(`${at('columns', i, 'start')} is required for a fixed-width layout`);
      if (col.width === undefined) problems.push(`${at('columns', i, 'width')} is required for a fixed-width layout`);
    }
  });
  if (format === 'fixed') {
    const placed = columns
      .map((col, i) => ({ name: String(col.name), start: col.start, width: col.width, i }))
      .filter(
        (c): c is { name: string; start: number; width: number; i: number } =>
          isNum(c.start) && c.start >= 0 && isNum(c.width) && c.width > 0,
      )
      .sort((a, b) => a.start - b.start);
    for (let j = 1; j < placed.length; j++) {
      const prev = placed[j - 1];
      const cur = placed[j];
      if (prev && cur && cur.start < prev.start + prev.width) {
        problems.push(
          `${at('columns', cur.i)} ("${cur.name}", characters ${cur.start}-${cur.start + cur.width - 1}) overlaps ` +
            `columns[${prev.i}] ("${prev.name}", characters ${prev.start}-${prev.start + prev.width - 1})`,
        );
      }
    }
  }
  const mapping =
    typeof raw.field_mapping === 'object' && raw.field_mapping !== null
      ? (raw.field_mapping as Record<string, unknown>)
      : {};
  const fields = new Map<string, string>();
  for (const [cases, field] of Object.entries(mapping)) {
    if (!names.has(cases.toUpperCase())) problems.push(`${at('field_mapping', cases)} names unknown column "${cases}"`);
    if (typeof field !== 'string') continue;
    const fieldProblem = field === '' ? null : sqlNameProblem(field);
    if (fieldProblem !== null) problems.push(`${at('field_mapping', cases)} maps to a name that ${fieldProblem}`);
    const builder = VIEW_BUILDER_FIELDS.find((f) => f.toLowerCase() === field.toLowerCase());
    if (builder !== undefined)
      problems.push(
        `${at('field_mapping', cases)} maps to "${field}", which every view has already (${VIEW_BUILDER_FIELDS.join(', ')})`,
      );
    const prior = fields.get(field.toLowerCase());
    if (prior !== undefined)
      problems.push(`${at('field_mapping', cases)} maps to "${field}", which "${prior}" already uses`);
    else fields.set(field.toLowerCase(), cases);
  }
  const table = raw.table_name;
  // The mirror is cases_<table>: its name must fit too.
  if (typeof table === 'string' && Buffer.byteLength(`cases_${baseTableOf(table)}`, 'utf8') > MAX_NAME_BYTES) {
    problems.push(
      `${at('table_name')} is too long: its mirror table cases_${baseTableOf(table).toLowerCase()} would pass ${MAX_NAME_BYTES} bytes`,
    );
  }
  const pk = raw.primary_key;
  const pkList = typeof pk === 'string' ? [pk] : Array.isArray(pk) ? pk : [];
  pkList.forEach((col, i) => {
    if (typeof col === 'string' && !names.has(col.toUpperCase())) {
      problems.push(`${at('primary_key', ...(typeof pk === 'string' ? [] : [i]))} names unknown column "${col}"`);
    }
  });
  return problems;
}

/**
 * The view a layout's field_mapping makes (its `view`, else one named after its file) must be a
 * name of its own: not a ledger table or a mirror (the load would drop or fail on them), not a
 * built-in view of another table (which it would silently replace), not another layout's view.
 * `views` collects the names taken so far, lower case, by layout key.
 */
function viewProblems(key: string, layout: FileLayoutInput, views: Map<string, string>): string[] {
  if (!layout.field_mapping) return [];
  const explicit = layout.view !== undefined;
  // As the registry reads it: a CSV layout without `filename` has none, and its view is named after its table.
  const fileName =
    inferFormat(layout, key) === 'fixed' || layout.filename !== undefined ? (layout.filename ?? key) : null;
  const name = layout.view ?? defaultViewName(fileName, baseTableOf(layout.table_name));
  const at = formatJsonPath(['file_layouts', key, ...(explicit ? ['view'] : [])]);
  const what = explicit ? `view "${name}"` : `has no "view", so its view is named "${name}" after its file; that name`;
  const problems: string[] = [];
  const sqlProblem = sqlNameProblem(name);
  if (sqlProblem !== null) problems.push(`${at} ${what} ${sqlProblem}`);
  const prefix = reservedViewPrefix(name);
  if (prefix !== null)
    problems.push(
      `${at} ${what} starts with ${prefix}, which is reserved for cases-etl's own tables; choose another view name`,
    );
  const lower = name.toLowerCase();
  const builtin = Object.entries(BUILTIN_VIEW_TABLES).find(([view]) => view === lower);
  const table = baseTableOf(layout.table_name);
  if (builtin && builtin[1] !== table) {
    problems.push(`${at} ${what} is the built-in view of table ${builtin[1]}, not ${table}; choose another view name`);
  }
  const other = views.get(lower);
  if (other !== undefined) problems.push(`${at} ${what} is already the view of file_layouts[${JSON.stringify(other)}]`);
  else views.set(lower, key);
  return problems;
}

/**
 * Checks parsed JSON against the relationships.json shape. Returns the typed file or every
 * problem found, each prefixed with its JSON path.
 */
export function checkRelationshipsJson(
  json: unknown,
  path: string,
): { file: RelationshipsFile; problems: [] } | { file: null; problems: string[] } {
  const problems: string[] = [];
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return {
      file: null,
      problems: ['(top level) must be a JSON object with primary_keys, relationships and optionally file_layouts'],
    };
  }
  const root = json as Record<string, unknown>;

  const pkResult = z
    .record(
      z.string(),
      z.array(nonEmptyString, typed('a list of column names')),
      typed('an object of TABLE_SITE to column lists'),
    )
    .optional()
    .safeParse(root.primary_keys);
  if (!pkResult.success) problems.push(...zodProblems(pkResult.error, ['primary_keys']));

  const relResult = z.array(relationshipSchema, typed('a list')).optional().safeParse(root.relationships);
  if (!relResult.success) problems.push(...zodProblems(relResult.error, ['relationships']));

  const fileLayouts: Record<string, FileLayoutInput> = {};
  const rawLayouts = root.file_layouts;
  if (rawLayouts !== undefined) {
    if (typeof rawLayouts !== 'object' || rawLayouts === null || Array.isArray(rawLayouts)) {
      problems.push('file_layouts must be an object keyed by file name');
    } else {
      const tables = new Map<string, string>();
      const files = new Map<string, string>();
      const views = new Map<string, string>();
      for (const [key, value] of Object.entries(rawLayouts)) {
        const parsed = fileLayoutSchema.safeParse(value);
        if (typeof value === 'object' && value !== null && !Array.isArray(value))
          problems.push(...semanticProblems(key, value as Record<string, unknown>));
        if (!parsed.success) {
          problems.push(...zodProblems(parsed.error, ['file_layouts', key]));
          continue;
        }
        const table = baseTableOf(parsed.data.table_name);
        const otherTable = tables.get(table);
        if (otherTable !== undefined) {
          problems.push(
            `${formatJsonPath(['file_layouts', key, 'table_name'])} defines table ${table} again (already defined by file_layouts[${JSON.stringify(otherTable)}])`,
          );
        } else tables.set(table, key);
        const filename = (parsed.data.filename ?? key).toLowerCase();
        const otherFile = files.get(filename);
        if (otherFile !== undefined) {
          problems.push(
            `${formatJsonPath(['file_layouts', key, 'filename'])} reuses file name "${parsed.data.filename ?? key}" (already used by file_layouts[${JSON.stringify(otherFile)}])`,
          );
        } else files.set(filename, key);
        problems.push(...viewProblems(key, parsed.data, views));
        fileLayouts[key] = parsed.data;
      }
    }
  }

  if (problems.length > 0) return { file: null, problems };
  return {
    file: { path, primaryKeys: pkResult.data ?? {}, relationships: relResult.data ?? [], fileLayouts },
    problems: [],
  };
}

/** `DF_8865` → `DF`; `ST` → `ST`. Table names never contain an underscore; sites follow the first one. */
export function baseTableOf(tableName: string): string {
  const i = siteSeparator(tableName);
  return (i === -1 ? tableName : tableName.slice(0, i)).toUpperCase();
}

/** `DF_8865` → `8865`; `ST_TFR_8865` → `8865`; `ST` → null. */
export function siteOf(tableName: string): string | null {
  const i = siteSeparator(tableName);
  return i === -1 ? null : tableName.slice(i + 1);
}

/**
 * Where a table id's site starts: after its last underscore when what follows holds a digit (a
 * school number: `ST_TFR_8865`; 50 CASES21 tables have underscores in their names, none a digit
 * after one), else after its first (`DF_ABC`, as before those tables were known).
 */
function siteSeparator(tableName: string): number {
  const last = tableName.lastIndexOf('_');
  if (last !== -1 && /\d/.test(tableName.slice(last + 1))) return last;
  return tableName.indexOf('_');
}

/**
 * Reads and checks relationships.json. Throws ETL_LAYOUT_FILE_UNREADABLE when the file cannot
 * be read or parsed, ETL_LAYOUT_INVALID (with every problem) when its shape is wrong.
 */
export async function readRelationshipsJson(path: string): Promise<RelationshipsFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new EtlError('ETL_LAYOUT_FILE_UNREADABLE', `cannot read ${path}: ${coerceError(cause).message}`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (cause) {
    const message = coerceError(cause).message;
    const pos = /position (\d+)/.exec(message);
    let where = '';
    if (pos?.[1]) {
      const before = text.slice(0, Number(pos[1]));
      const line = before.split('\n').length;
      where = ` (line ${line}, column ${before.length - before.lastIndexOf('\n')})`;
    }
    throw new EtlError('ETL_LAYOUT_FILE_UNREADABLE', `${path} is not valid JSON${where}: ${message}`, { cause });
  }
  const checked = checkRelationshipsJson(json, path);
  if (checked.file === null) {
    const n = checked.problems.length;
    throw new EtlError(
      'ETL_LAYOUT_INVALID',
      `${path} has ${n} problem${n === 1 ? '' : 's'}:\n  ${checked.problems.join('\n  ')}`,
      {
        problems: checked.problems,
      },
    );
  }
  return checked.file;
}
