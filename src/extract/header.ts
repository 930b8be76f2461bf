import type { ColumnLayout, TableLayout } from '../layouts/index.js';
import type { FileColumns, NoticeSink } from './records.js';

/**
 * An eduHub file's header row mapped onto its table's layout: by name, never by position, so a
 * new CASES release that adds or reorders columns still loads.
 */

/** Names for a message: all of a short list, the first ten of a long one. */
function listSome(names: readonly string[], max = 10): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

function profileColumn(name: string): ColumnLayout {
  return { name, type: 'string', maxLength: null, format: 'auto', required: false, start: null, width: null, references: null, description: null };
}

/**
 * Maps a header to the layout by name (never by position): columns in file order, unknown names
 * kept as text, layout columns the file lacks appended (they read as null). Returns the problem
 * that makes the file unreadable, if any.
 */
export function mapHeader(header: readonly string[], layout: TableLayout, file: string, notice: NoticeSink): { columns: FileColumns } | { problem: string; code: 'ETL_PARSE_DUPLICATE_HEADER' | 'ETL_PARSE_KEY_COLUMN_MISSING' } {
  const byName = new Map(layout.columns.map((c) => [c.name, c] as const));
  const names = header.map((h) => h.trim().toUpperCase());
  const seen = new Set<string>();
  const columns: ColumnLayout[] = [];
  const extra: string[] = [];
  for (const name of names) {
    if (seen.has(name)) return { code: 'ETL_PARSE_DUPLICATE_HEADER', problem: `the header names column ${name} twice` };
    seen.add(name);
    const known = byName.get(name);
    if (known) columns.push(known);
    else {
      columns.push(profileColumn(name));
      extra.push(name);
    }
  }
  const missingKey = (layout.primaryKey ?? []).filter((k) => !seen.has(k));
  if (missingKey.length > 0) {
    return { code: 'ETL_PARSE_KEY_COLUMN_MISSING', problem: `the header lacks the key column${missingKey.length > 1 ? 's' : ''} ${missingKey.join(', ')} of table ${layout.table}` };
  }
  const missing = layout.columns.filter((c) => !seen.has(c.name));
  if (extra.length > 0 && layout.columns.length > 0) {
    notice({
      severity: 'warning',
      code: 'ETL_PARSE_UNKNOWN_COLUMN',
      file,
      message: `${extra.length} column${extra.length > 1 ? 's' : ''} not in the ${layout.table} layout, kept as text: ${extra.join(', ')}`,
    });
  }
  if (missing.length > 0) {
    notice({
      severity: 'info',
      code: 'ETL_PARSE_MISSING_COLUMNS',
      file,
      message: `${missing.length} ${layout.table} column${missing.length > 1 ? 's' : ''} not in the file, read as null: ${listSome(missing.map((c) => c.name))}`,
    });
  }
  return { columns: { columns: [...columns, ...missing], present: names.length, extra, missing: missing.map((c) => c.name) } };
}
