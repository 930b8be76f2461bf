import {
  type ColumnLayout,
  type TableLayout,
  isReservedColumnName,
  printableName,
  RESERVED_COLUMN_REASON,
  sqlNameProblem,
} from '../layouts/index.js';
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
  return {
    name,
    type: 'string',
    maxLength: null,
    format: 'auto',
    required: false,
    start: null,
    width: null,
    references: null,
    description: null,
  };
}

/** Why a header makes the file unreadable, with the code it is reported under. */
export interface HeaderProblem {
  readonly code:
    | 'ETL_PARSE_DUPLICATE_HEADER'
    | 'ETL_PARSE_KEY_COLUMN_MISSING'
    | 'ETL_PARSE_BAD_HEADER'
    | 'ETL_PARSE_RESERVED_HEADER';
  readonly problem: string;
}

/**
 * Checks each header name before it can become a column: a name that cannot be an SQL name, one
 * that is the mirror's own (`SCHOOL_ID`, `_HASH`: loading it would move or corrupt rows), or two
 * that would be one column (equal ignoring case; two long ones equal in their first 63 bytes are
 * already refused as too long). Names are checked as the mapping reads them, trimmed.
 */
function checkHeaderNames(header: readonly string[], layout: TableLayout): HeaderProblem | null {
  // A table whose layout has its own SCHOOL_ID column (SKGS: the state's list of schools) keeps
  // it apart from the mirror's school column (load/mirror.ts); anywhere else the name is reserved.
  const ownSchoolId = layout.columns.some((c) => c.name === 'SCHOOL_ID');
  const seen = new Map<string, number>();
  for (const [i, raw] of header.entries()) {
    const name = raw.trim();
    const at = `header column ${i + 1}`;
    const bad = sqlNameProblem(name);
    if (bad !== null) {
      const hint = name === '' && i === header.length - 1 ? ' (a trailing comma on the header line?)' : '';
      return {
        code: 'ETL_PARSE_BAD_HEADER',
        problem: `${at}${name === '' ? '' : ` ("${printableName(name)}")`} ${bad}${hint}`,
      };
    }
    if (isReservedColumnName(name) && !(ownSchoolId && name.toUpperCase() === 'SCHOOL_ID')) {
      return {
        code: 'ETL_PARSE_RESERVED_HEADER',
        problem: `${at} is ${printableName(name)}, a reserved name: ${RESERVED_COLUMN_REASON}`,
      };
    }
    const upper = name.toUpperCase();
    const first = seen.get(upper);
    if (first !== undefined) {
      return {
        code: 'ETL_PARSE_DUPLICATE_HEADER',
        problem: `the header names column ${printableName(upper)} twice (columns ${first + 1} and ${i + 1}, ignoring case)`,
      };
    }
    seen.set(upper, i);
  }
  return null;
}

/**
 * Maps a header to the layout by name (never by position): columns in file order, unknown names
 * kept as text, layout columns the file lacks appended (they read as null). Returns the problem
 * that makes the file unreadable, if any: a bad, reserved or repeated name, or a missing key.
 */
export function mapHeader(
  header: readonly string[],
  layout: TableLayout,
  file: string,
  notice: NoticeSink,
): { columns: FileColumns } | HeaderProblem {
  const checked = checkHeaderNames(header, layout);
  if (checked !== null) return checked;
  // Header names are matched without regard to case, as they are read (upper case).
  const byName = new Map(layout.columns.map((c) => [c.name.toUpperCase(), c] as const));
  const names = header.map((h) => h.trim().toUpperCase());
  const seen = new Set(names);
  const columns: ColumnLayout[] = [];
  const extra: string[] = [];
  for (const name of names) {
    const known = byName.get(name);
    if (known) columns.push(known);
    else {
      columns.push(profileColumn(name));
      extra.push(name);
    }
  }
  const missingKey = (layout.primaryKey ?? []).filter((k) => !seen.has(k.toUpperCase()));
  if (missingKey.length > 0) {
    return {
      code: 'ETL_PARSE_KEY_COLUMN_MISSING',
      problem: `the header lacks the key column${missingKey.length > 1 ? 's' : ''} ${missingKey.join(', ')} of table ${layout.table}`,
    };
  }
  const missing = layout.columns.filter((c) => !seen.has(c.name.toUpperCase()));
  if (extra.length > 0 && layout.columns.length > 0) {
    notice({
      severity: 'warning',
      code: 'ETL_PARSE_UNKNOWN_COLUMN',
      file,
      // The first ten names only: a header of thousands of names must not make every report that size.
      message: `${extra.length} column${extra.length > 1 ? 's' : ''} not in the ${layout.table} layout, kept as text: ${listSome(extra)}`,
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
  return {
    columns: { columns: [...columns, ...missing], present: names.length, extra, missing: missing.map((c) => c.name) },
  };
}
