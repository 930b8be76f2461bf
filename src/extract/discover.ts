import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { EtlError, type Notice } from '../errors/index.js';
import { tableForFile, type LayoutRegistry, type LoadMode, type TableLayout } from '../layouts/index.js';

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

async function listFiles(directory: string): Promise<Listed[]> {
  let entries;
  try {
    entries = await readdir(directory, { withFileTypes: true });
  } catch (cause) {
    throw new EtlError('ETL_SOURCE_NOT_FOUND', `cannot list the source folder ${directory}: ${(cause as Error).message}`, { cause });
  }
  const files: Listed[] = [];
  for (const e of entries) {
    if (!e.isFile() || e.name.startsWith('.')) continue;
    const path = join(directory, e.name);
    const s = await stat(path);
    files.push({ name: e.name, path, size: s.size, mtimeMs: s.mtimeMs });
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

/** Lists, settles and classifies the export folder. Throws ETL_SOURCE_NOT_FOUND if it cannot be listed. */
export async function discoverSource(directory: string, registry: LayoutRegistry, options: DiscoverOptions): Promise<Discovery> {
  const ignored = new Set(options.ignorePaths ?? []);
  const listed = (await listFiles(directory)).filter((f) => !ignored.has(f.path));
  const { stable, unstable } = await settle(listed, options);
  const notices: Notice[] = unstable.map((name) => ({
    severity: 'warning',
    code: 'ETL_SOURCE_UNSTABLE',
    file: name,
    message: `still being written after ${options.stableTimeoutMs} ms; it will be read on a later run`,
  }));
  const unknown: string[] = [];
  const bySchool = new Map<string, SourceFile[]>();

  for (const f of stable.sort((a, b) => a.name.localeCompare(b.name))) {
    const match = tableForFile(f.name, registry, options.schoolId);
    if (!match) {
      unknown.push(f.name);
      continue;
    }
    if (match.site === null) {
      notices.push({ severity: 'error', code: 'ETL_SOURCE_NO_SCHOOL', file: f.name, message: 'a fixed-width file with no school id: set CASES_SCHOOL_ID' });
      continue;
    }
    const list = bySchool.get(match.site) ?? [];
    list.push({ name: f.name, path: f.path, bytes: f.size, mtimeMs: f.mtimeMs, layout: match.layout, table: match.layout.table, tableId: match.tableId, mode: match.mode });
    bySchool.set(match.site, list);
  }
  if (unknown.length > 0) {
    notices.push({ severity: 'info', code: 'ETL_SOURCE_UNKNOWN_FILE', file: null, message: `ignored ${unknown.length} file${unknown.length > 1 ? 's' : ''} that match no layout: ${unknown.join(', ')}` });
  }

  const fileSets: FileSet[] = [];
  for (const [school, files] of [...bySchool.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    if (options.onlySchool && school !== options.onlySchool) continue;
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
