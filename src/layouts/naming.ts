import type { LayoutRegistry } from './registry.js';
import { baseTableOf, siteOf } from './relationships.js';
import type { LoadMode, TableLayout } from './types.js';

/**
 * File names and table ids, both ways. eduHub names files `<TABLE>_<SITE>.csv` (full extract)
 * and `<TABLE>_<SITE>_D.csv` (delta); fixed-width files are named by their layout's `filename`
 * and belong to the layout's `table_name` (STUDENT.DAT → DF_8865).
 */

// The table may hold underscores (ST_TFR_8865.csv): the site is the last part before `_D`.
const EDUHUB_NAME = /^([A-Za-z][A-Za-z0-9_]*?)_([A-Za-z0-9]+?)(_D)?\.csv$/i;

export interface EduhubName {
  /** Base table, upper case: `ST`. */
  readonly table: string;
  /** School (site) id, kept as written, leading zeros and all. */
  readonly site: string;
  readonly mode: LoadMode;
}

/** Parses an eduHub file name, or null when the name is not of that form. */
export function parseEduhubFileName(fileName: string): EduhubName | null {
  const m = EDUHUB_NAME.exec(fileName);
  if (!m?.[1] || !m[2]) return null;
  return { table: m[1].toUpperCase(), site: m[2], mode: m[3] ? 'delta' : 'full' };
}

/** `ST`, `8865`, `full` → `ST_8865.csv`; `delta` → `ST_8865_D.csv`. */
export function eduhubFileName(table: string, site: string, mode: LoadMode = 'full'): string {
  return `${table.toUpperCase()}_${site}${mode === 'delta' ? '_D' : ''}.csv`;
}

/** `ST` and `8865` → the table id `ST_8865`. */
export function tableId(table: string, site: string): string {
  return `${table.toUpperCase()}_${site}`;
}

export interface FileTable {
  readonly layout: TableLayout;
  /** `ST_8865`, `DF_8865`. */
  readonly tableId: string;
  /** The school the file belongs to, or null when it cannot be told (fixed-width, no school id). */
  readonly site: string | null;
  readonly mode: LoadMode;
}

/**
 * Maps a file name to its layout and table id. Fixed-width (named) layouts are matched first,
 * case-insensitively; then eduHub naming. `schoolId` is the site for fixed-width files
 * (CASES_SCHOOL_ID); without it the site in a relationships.json layout's table_name is used (never
 * the seed's built-in one's). Null: unknown file.
 */
export function tableForFile(fileName: string, registry: LayoutRegistry, schoolId: string | null): FileTable | null {
  const named = registry.layoutForFileName(fileName);
  if (named) {
    // A built-in .DAT layout's table_name (DF_8865) is the seed school's, not this folder's.
    const ownSite = named.origin === 'builtin' || !named.tableName ? null : siteOf(named.tableName);
    const site = schoolId ?? ownSite;
    return {
      layout: named,
      tableId: site ? tableId(named.table, site) : named.table,
      site,
      mode: named.mode ?? 'full',
    };
  }
  const parsed = parseEduhubFileName(fileName);
  if (!parsed) return null;
  const layout = registry.layoutFor(parsed.table);
  if (!layout) return null;
  return { layout, tableId: tableId(parsed.table, parsed.site), site: parsed.site, mode: layout.mode ?? parsed.mode };
}

/**
 * The file name a table id is read from: the fixed-width layout's filename when the table has
 * one, else the eduHub name. `ST_8865` → `ST_8865.csv`; `DF_8865` → `STUDENT.DAT` with the seed's layout.
 */
export function fileNameForTable(id: string, registry: LayoutRegistry, mode: LoadMode = 'full'): string | null {
  const layout = registry.layoutFor(id);
  if (!layout) return null;
  if (layout.filename) return layout.filename;
  const site = siteOf(id);
  return site ? eduhubFileName(baseTableOf(id), site, mode) : null;
}
