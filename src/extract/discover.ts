import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { coerceError, EtlError, type Notice } from '../errors/index.js';
import {
  tableForFile,
  type FileTable,
  type LayoutRegistry,
  type LoadMode,
  type TableLayout,
} from '../layouts/index.js';
import { compareText } from '../util/index.js';

/**
 * Discovery: which files in the export folder are which tables of which school. eduHub names
 * carry the school; fixed-width files take CASES_SCHOOL_ID. A delta counts only when it is newer
 * than its full extract. A file still being written (size or mtime changing) is not read.
 */

export interface SourceFile {
  /** File name as it is in the folder. */
  readonly name: string;
  readonly path: string;
  readonly bytes: number;
  readonly mtimeMs: number;
  readonly layout: TableLayout;
  /** Base table (`ST`) and table id (`ST_8865`). */
  readonly table: string;
  readonly tableId: string;
  readonly mode: LoadMode;
}

/** Two or more files that are the same table's same kind of extract on the same night. */
export interface FileConflict {
  /** Base table (`ST`). */
  readonly table: string;
  /** The files' names, sorted. */
  readonly files: readonly string[];
  /** Names the files and the table (never their contents) and what to do. */
  readonly message: string;
}

/** One school's files for one night: full extracts first, then deltas, by table. */
export interface FileSet {
  readonly school: string;
  readonly files: readonly SourceFile[];
  /** Required tables that have no file in this set (a table whose files conflict has none). */
  readonly missingRequired: readonly string[];
  /** Tables with more than one file of the same mode; none of those files is in `files`. */
  readonly conflicts: readonly FileConflict[];
}

export interface Discovery {
  readonly directory: string;
  readonly fileSets: readonly FileSet[];
  /** Names of files that match no layout; listed and ignored. */
  readonly unknown: readonly string[];
  /** Files still changing after the wait; read on a later run. */
  readonly unstable: readonly string[];
  readonly notices: readonly Notice[];
}

export interface DiscoverOptions {
  /** School id for fixed-width files (CASES_SCHOOL_ID). */
  readonly schoolId: string | null;
  /** Keep only this school's file set. */
  readonly onlySchool?: string | null;
  /** Tables every eduHub file set must have (ETL_REQUIRED_TABLES). */
  readonly requiredTables: readonly string[];
  /** A file modified within this many ms is watched until it stops changing. */
  readonly stableMs: number;
  /** Longest wait for changing files, in ms. */
  readonly stableTimeoutMs: number;
  /** Absolute paths never taken as data, such as a relationships.json kept beside the export. */
  readonly ignorePaths?: readonly string[];
  /** Clock, for tests. */
  readonly now?: () => number;
}

interface Listed {
  name: string;
  path: string;
  size: number;
  mtimeMs: number;
}

/**
 * The names of the plain files in `directory`, hidden ones left out. Symlinks are listed too: a
 * table's file swapped for a link must fail the night as unreadable (reads refuse symlinks, see
 * util/no-follow.ts), not silently drop out of it.
 */
async function listNames(directory: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(directory, { withFileTypes: true });
  } catch (cause) {
    throw new EtlError(
      'ETL_SOURCE_NOT_FOUND',
      `cannot list the source folder ${directory}: ${coerceError(cause).message}`,
      { cause },
    );
  }
  return entries.filter((e) => (e.isFile() || e.isSymbolicLink()) && !e.name.startsWith('.')).map((e) => e.name);
}

/** Files looked at together: a folder of hundreds of schools is not stat'ed one file at a time. */
const STAT_BATCH = 64;

/**
 * Size and mtime of each file; one removed since the folder was listed is left out. lstat, never
 * stat: a symlink's target is no part of the export (its read fails, and names the link).
 */
async function statFiles(directory: string, names: readonly string[]): Promise<Listed[]> {
  const files: Listed[] = [];
  for (let i = 0; i < names.length; i += STAT_BATCH) {
    const batch = names.slice(i, i + STAT_BATCH);
    const stats = await Promise.all(batch.map((name) => lstat(join(directory, name)).catch(() => null)));
    for (const [k, s] of stats.entries()) {
      const name = batch[k] as string;
      if (s) files.push({ name, path: join(directory, name), size: s.size, mtimeMs: s.mtimeMs });
    }
  }
  return files;
}

/**
 * Waits until recently-modified files stop changing. A file whose mtime is older than `stableMs`
 * is taken as finished at once; others are looked at again every `stableMs` until two looks agree
 * or `stableTimeoutMs` runs out. Returns the stable files and the names still changing.
 */
async function settle(files: Listed[], options: DiscoverOptions): Promise<{ stable: Listed[]; unstable: string[] }> {
  const now = options.now ?? Date.now;
  const stable: Listed[] = [];
  let watching: Listed[] = [];
  for (const f of files) (now() - f.mtimeMs >= options.stableMs ? stable : watching).push(f);
  const deadline = now() + options.stableTimeoutMs;
  while (watching.length > 0 && now() < deadline) {
    await sleep(Math.max(1, Math.min(options.stableMs, deadline - now())));
    const still: Listed[] = [];
    for (const f of watching) {
      let s;
      try {
        s = await lstat(f.path);
      } catch {
        continue; // removed while we waited: not part of tonight's export
      }
      const again = { ...f, size: s.size, mtimeMs: s.mtimeMs };
      (s.size === f.size && s.mtimeMs === f.mtimeMs ? stable : still).push(again);
    }
    watching = still;
  }
  return { stable, unstable: watching.map((f) => f.name) };
}

/** A file read with one of the seed's built-in `.DAT` layouts (not a school's own layout). */
const usesSeedDat = (f: SourceFile): boolean => f.layout.origin === 'builtin' && f.layout.filename !== null;

/** `A`, `A and B`, `A, B and C`. */
function joinNames(names: readonly string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1] ?? ''}`;
}

/**
 * Splits off tables that have two files of the same mode tonight (`ST_8865.csv` and
 * `st_8865.csv`, or eduHub's `DF_8865.csv` and the seed's `STUDENT.DAT`, both table DF). Loading
 * both would let directory order decide which wins; loading either would guess, so neither is kept.
 */
function withoutConflicts(files: readonly SourceFile[]): { files: SourceFile[]; conflicts: FileConflict[] } {
  const groups = new Map<string, SourceFile[]>();
  for (const f of files) {
    const key = `${f.table}\u0000${f.mode}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  const conflicts: FileConflict[] = [];
  const kept: SourceFile[] = [];
  for (const group of groups.values()) {
    const first = group[0];
    if (!first || group.length === 1) {
      kept.push(...group);
      continue;
    }
    const names = group.map((f) => f.name).sort();
    const mixed = new Set(group.map((f) => f.layout.format)).size > 1;
    const described = mixed
      ? group.map((f) => `${f.name} (${f.layout.format === 'csv' ? 'eduHub CSV' : 'fixed-width'})`).sort()
      : names;
    const what = first.mode === 'full' ? 'the full extract' : 'a delta';
    const many = names.length > 2;
    conflicts.push({
      table: first.table,
      files: names,
      message:
        `${joinNames(described)} are each ${what} of table ${first.table}; ${many ? 'none' : 'neither'} was loaded, ` +
        `since only one can be tonight's ${first.table}: remove or rename the other${many ? 's' : ''}`,
    });
  }
  return { files: kept, conflicts: conflicts.sort((a, b) => compareText(a.table, b.table)) };
}

/**
 * One info notice per layout whose key was taken from its first column because the profile
 * found that column unique: the rule is a guess worth seeing once, and a line in the layout ends it.
 */
function inferredKeyNotices(fileSets: readonly FileSet[]): Notice[] {
  const seen = new Set<TableLayout>();
  const notices: Notice[] = [];
  for (const f of fileSets.flatMap((s) => s.files)) {
    if (f.layout.keyRule !== 'profile-first-column' || seen.has(f.layout)) continue;
    seen.add(f.layout);
    const key = f.layout.primaryKey?.join(', ') ?? '';
    notices.push({
      severity: 'info',
      code: 'ETL_LAYOUT_KEY_INFERRED',
      file: f.name,
      message:
        `${f.layout.originDetail} names no primary_key; ` +
        `using its first column ${key}, which primary_keys lists as unique for ${f.table}`,
    });
  }
  return notices;
}

/**
 * Lists, classifies and settles the export folder. Files are told apart by name first, so a run
 * for one school (`onlySchool`) looks at, and waits for, that school's files only: in a
 * network's folder the others' are hundreds of files, some still being written. Throws
 * ETL_SOURCE_NOT_FOUND if the folder cannot be listed.
 */
export async function discoverSource(
  directory: string,
  registry: LayoutRegistry,
  options: DiscoverOptions,
): Promise<Discovery> {
  const ignored = new Set(options.ignorePaths ?? []);
  const notices: Notice[] = [];
  const unknown: string[] = [];
  const matches = new Map<string, FileTable & { readonly site: string }>();
  for (const name of (await listNames(directory)).sort((a, b) => compareText(a, b))) {
    if (ignored.has(join(directory, name))) continue;
    const match = tableForFile(name, registry, options.schoolId);
    if (!match) {
      unknown.push(name);
      continue;
    }
    if (match.site === null) {
      notices.push({
        severity: 'error',
        code: 'ETL_SOURCE_NO_SCHOOL',
        file: name,
        message: 'a fixed-width file with no school id: set CASES_SCHOOL_ID',
      });
      continue;
    }
    if (options.onlySchool && match.site !== options.onlySchool) continue;
    matches.set(name, { ...match, site: match.site });
  }
  const { stable, unstable } = await settle(await statFiles(directory, [...matches.keys()]), options);
  for (const name of unstable) {
    notices.push({
      severity: 'warning',
      code: 'ETL_SOURCE_UNSTABLE',
      file: name,
      message: `still being written after ${options.stableTimeoutMs} ms; it will be read on a later run`,
    });
  }
  const bySchool = new Map<string, SourceFile[]>();
  for (const f of stable.sort((a, b) => compareText(a.name, b.name))) {
    const match = matches.get(f.name);
    if (!match) continue;
    const list = bySchool.get(match.site) ?? [];
    list.push({
      name: f.name,
      path: f.path,
      bytes: f.size,
      mtimeMs: f.mtimeMs,
      layout: match.layout,
      table: match.layout.table,
      tableId: match.tableId,
      mode: match.mode,
    });
    bySchool.set(match.site, list);
  }
  if (unknown.length > 0) {
    notices.push({
      severity: 'info',
      code: 'ETL_SOURCE_UNKNOWN_FILE',
      file: null,
      message: `ignored ${unknown.length} file${unknown.length > 1 ? 's' : ''} that match no layout: ${unknown.join(', ')}`,
    });
  }

  const fileSets: FileSet[] = [];
  for (const [school, all] of [...bySchool.entries()].sort(([a], [b]) => compareText(a, b))) {
    const { files, conflicts } = withoutConflicts(all);
    const kept = files.filter((f) => {
      if (f.mode !== 'delta') return true;
      const base = files.find((b) => b.table === f.table && b.mode === 'full');
      if (!base || f.mtimeMs > base.mtimeMs) return true;
      notices.push({
        severity: 'info',
        code: 'ETL_SOURCE_STALE_DELTA',
        file: f.name,
        message: `older than ${base.name}, whose full extract already holds its changes; ignored`,
      });
      return false;
    });
    kept.sort((a, b) => compareText(a.table, b.table) || (a.mode === b.mode ? 0 : a.mode === 'full' ? -1 : 1));
    const hasEduhub = kept.some((f) => f.layout.filename === null);
    const tables = new Set(kept.map((f) => f.table));
    const required = new Set<string>(hasEduhub ? options.requiredTables : []);
    for (const layout of registry.tables.values()) if (layout.required) required.add(layout.table);
    // The seed's .DAT export is four files the original system required together; a school
    // sending one of them with its built-in layout is taken to send that export.
    if (kept.some(usesSeedDat)) for (const table of registry.seedDatTables) required.add(table);
    // A table whose files conflict has no file tonight, whatever delta came with it.
    const conflicted = new Set(conflicts.map((c) => c.table));
    const missingRequired = [...required].filter((t) => !tables.has(t) || conflicted.has(t)).sort();
    fileSets.push({ school, files: kept, missingRequired, conflicts });
  }
  if (options.onlySchool && !fileSets.some((s) => s.school === options.onlySchool)) {
    fileSets.push({
      school: options.onlySchool,
      files: [],
      missingRequired: [...options.requiredTables],
      conflicts: [],
    });
  }
  notices.push(...inferredKeyNotices(fileSets));
  return { directory, fileSets, unknown, unstable, notices };
}
