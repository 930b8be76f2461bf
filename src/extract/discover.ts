import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { EtlError, type Notice } from '../errors/index.js';
import { tableForFile, type FileTable, type LayoutRegistry, type LoadMode, type TableLayout } from '../layouts/index.js';

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

/** One school's files for one night: full extracts first, then deltas, by table. */
export interface FileSet {
  readonly school: string;
  readonly files: readonly SourceFile[];
  /** Required tables that have no file in this set. */
  readonly missingRequired: readonly string[];
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

/** The names of the plain files in `directory`, hidden ones left out. */
async function listNames(directory: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(directory, { withFileTypes: true });
  } catch (cause) {
    throw new EtlError('ETL_SOURCE_NOT_FOUND', `cannot list the source folder ${directory}: ${(cause as Error).message}`, { cause });
  }
  return entries.filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => e.name);
}

/** Files looked at together: a folder of hundreds of schools is not stat'ed one file at a time. */
const STAT_BATCH = 64;

/** Size and mtime of each file; one removed since the folder was listed is left out. */
async function statFiles(directory: string, names: readonly string[]): Promise<Listed[]> {
  const files: Listed[] = [];
  for (let i = 0; i < names.length; i += STAT_BATCH) {
    const batch = names.slice(i, i + STAT_BATCH);
    const stats = await Promise.all(batch.map((name) => stat(join(directory, name)).catch(() => null)));
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
        s = await stat(f.path);
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

/**
 * Lists, classifies and settles the export folder. Files are told apart by name first, so a run
 * for one school (`onlySchool`) looks at, and waits for, that school's files only: in a
 * network's folder the others' are hundreds of files, some still being written. Throws
 * ETL_SOURCE_NOT_FOUND if the folder cannot be listed.
 */
export async function discoverSource(directory: string, registry: LayoutRegistry, options: DiscoverOptions): Promise<Discovery> {
  const ignored = new Set(options.ignorePaths ?? []);
  const notices: Notice[] = [];
  const unknown: string[] = [];
  const matches = new Map<string, FileTable & { readonly site: string }>();
  for (const name of (await listNames(directory)).sort((a, b) => a.localeCompare(b))) {
    if (ignored.has(join(directory, name))) continue;
    const match = tableForFile(name, registry, options.schoolId);
    if (!match) {
      unknown.push(name);
      continue;
    }
    if (match.site === null) {
      notices.push({ severity: 'error', code: 'ETL_SOURCE_NO_SCHOOL', file: name, message: 'a fixed-width file with no school id: set CASES_SCHOOL_ID' });
      continue;
    }
    if (options.onlySchool && match.site !== options.onlySchool) continue;
    matches.set(name, { ...match, site: match.site });
  }
  const { stable, unstable } = await settle(await statFiles(directory, [...matches.keys()]), options);
  for (const name of unstable) {
    notices.push({ severity: 'warning', code: 'ETL_SOURCE_UNSTABLE', file: name, message: `still being written after ${options.stableTimeoutMs} ms; it will be read on a later run` });
  }
  const bySchool = new Map<string, SourceFile[]>();
  for (const f of stable.sort((a, b) => a.name.localeCompare(b.name))) {
    const match = matches.get(f.name);
    if (!match) continue;
    const list = bySchool.get(match.site) ?? [];
    list.push({ name: f.name, path: f.path, bytes: f.size, mtimeMs: f.mtimeMs, layout: match.layout, table: match.layout.table, tableId: match.tableId, mode: match.mode });
    bySchool.set(match.site, list);
  }
  if (unknown.length > 0) {
    notices.push({ severity: 'info', code: 'ETL_SOURCE_UNKNOWN_FILE', file: null, message: `ignored ${unknown.length} file${unknown.length > 1 ? 's' : ''} that match no layout: ${unknown.join(', ')}` });
  }

  const fileSets: FileSet[] = [];
  for (const [school, files] of [...bySchool.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const kept = files.filter((f) => {
      if (f.mode !== 'delta') return true;
      const base = files.find((b) => b.table === f.table && b.mode === 'full');
      if (!base || f.mtimeMs > base.mtimeMs) return true;
      notices.push({ severity: 'info', code: 'ETL_SOURCE_STALE_DELTA', file: f.name, message: `older than ${base.name}, whose full extract already holds its changes; ignored` });
      return false;
    });
    kept.sort((a, b) => a.table.localeCompare(b.table) || (a.mode === b.mode ? 0 : a.mode === 'full' ? -1 : 1));
    const hasEduhub = kept.some((f) => f.layout.filename === null);
    const tables = new Set(kept.map((f) => f.table));
    const required = new Set<string>(hasEduhub ? options.requiredTables : []);
    for (const layout of registry.tables.values()) if (layout.required) required.add(layout.table);
    fileSets.push({ school, files: kept, missingRequired: [...required].filter((t) => !tables.has(t)).sort() });
  }
  if (options.onlySchool && !fileSets.some((s) => s.school === options.onlySchool)) {
    fileSets.push({ school: options.onlySchool, files: [], missingRequired: [...options.requiredTables] });
  }
  return { directory, fileSets, unknown, unstable, notices };
}
