import { copyFile, mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { SourceFile } from '../../src/extract/index.js';
import type { ColumnLayout, LoadMode, TableLayout } from '../../src/layouts/index.js';

/** Absolute path of a file under test/fixtures. */
export function fixture(...parts: string[]): string {
  return fileURLToPath(new URL(`../fixtures/${parts.join('/')}`, import.meta.url));
}

/** A fresh temporary folder, removed by the returned cleanup. */
export async function tempDir(prefix = 'cases-etl-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Copies fixtures into `dir`, optionally renamed, with mtimes `ageSeconds` in the past. */
export async function stage(
  dir: string,
  files: Array<{ from: string; to: string; ageSeconds?: number }>,
): Promise<void> {
  for (const f of files) {
    const dest = join(dir, f.to);
    await copyFile(fixture(f.from), dest);
    const t = new Date(Date.now() - (f.ageSeconds ?? 3600) * 1000);
    await utimes(dest, t, t);
  }
}

/** A SourceFile for reading a fixture directly with a layout, bypassing discovery. */
export function sourceFile(path: string, layout: TableLayout, mode: LoadMode = 'full'): SourceFile {
  const name = path.split('/').pop() ?? path;
  return { name, path, bytes: 0, mtimeMs: 0, layout, table: layout.table, tableId: `${layout.table}_8865`, mode };
}

/** A column layout: text of any length, optional, unless `over` says otherwise. */
export function columnLayout(over: Partial<ColumnLayout>): ColumnLayout {
  return {
    name: 'C',
    type: 'string',
    maxLength: null,
    format: 'auto',
    required: false,
    start: null,
    width: null,
    references: null,
    description: null,
    ...over,
  };
}
