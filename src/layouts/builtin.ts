import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import type { ColumnLayout, ColumnType, TableLayout } from './types.js';

/** Where the built-in field facts live: `data/eduhub-schemas.json` at the package root. */
export const BUILTIN_SCHEMAS_PATH = fileURLToPath(new URL('../../data/eduhub-schemas.json', import.meta.url));

interface SchemaField {
  name: string;
  type: 'string' | 'int' | 'datetime' | 'decimal' | 'bytes';
  maxLength: number | null;
  nullable: boolean;
  references: string | null;
  sourceType: string;
  description?: string;
}

interface SchemaTable {
  description: string;
  primaryKey: string[];
  uniqueKeys: string[][];
  fields: SchemaField[];
}

/** Maps the data file's type and SQL source type onto ours (smallint vs int, money vs float). */
function columnTypeOf(field: SchemaField): ColumnType {
  switch (field.type) {
    case 'string':
      return field.maxLength === 1 ? 'flag' : 'string';
    case 'int':
      return field.sourceType.startsWith('short') ? 'smallint' : 'int';
    case 'decimal':
      return field.sourceType.startsWith('double') ? 'float' : 'decimal';
    case 'datetime':
      return 'datetime';
    case 'bytes':
      return 'bytes';
  }
}

function toLayout(table: string, schema: SchemaTable): TableLayout {
  const keys = new Set(schema.primaryKey);
  const columns: ColumnLayout[] = schema.fields.map((f) => ({
    // CASES column names are upper case, as eduHub writes them; the schema has one that is not
    // (PE's MEDICARE_Q9NOTQ12z), which a header read in upper case would otherwise not match.
    name: f.name.toUpperCase(),
    type: columnTypeOf(f),
    maxLength: f.type === 'string' ? f.maxLength : null,
    format: 'auto',
    required: keys.has(f.name) || (!f.nullable && f.type !== 'bytes'),
    start: null,
    width: null,
    references: f.references,
    description: f.description ?? null,
  }));
  return {
    table,
    origin: 'builtin',
    originDetail: `built-in layout (data/eduhub-schemas.json, ${schema.description})`,
    format: 'csv',
    encoding: 'windows-1252',
    filename: null,
    tableName: null,
    primaryKey: schema.primaryKey,
    keyProblem: null,
    keyRule: 'builtin',
    columns,
    openColumns: true,
    fieldMapping: null,
    view: null,
    mode: null,
    required: false,
    description: schema.description,
    candidateKeys: [],
  };
}

let cached: ReadonlyMap<string, TableLayout> | undefined;

/**
 * The built-in layouts for the 321 CASES21 v67 tables in data/eduhub-schemas.json, keyed by table
 * name. The file is static package data, so it is read once per process.
 */
export function loadBuiltinLayouts(): ReadonlyMap<string, TableLayout> {
  if (cached) return cached;
  const data = JSON.parse(readFileSync(BUILTIN_SCHEMAS_PATH, 'utf8')) as Record<string, SchemaTable>;
  cached = new Map(Object.entries(data).map(([table, schema]) => [table, toLayout(table, schema)]));
  return cached;
}
