import { constants } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { sha256File } from './checksum.js';

/**
 * The archive: after a published run, the night's files are copied to
 * `<archive>/<school>/<timestamp>-run<id>/` with a manifest.json (names, sizes, SHA-256). The
 * source folder is never touched: the export owns it. Old archives are pruned by age.
 */

export interface ArchivedFile {
  readonly name: string;
  readonly path: string;
  readonly bytes: number;
  /** The checksum of the file as it was loaded. */
  readonly sha256: string;
}

export interface Manifest {
  readonly school: string;
  readonly runId: number;
  readonly archivedAt: string;
  readonly files: ReadonlyArray<{ name: string; bytes: number; sha256: string; changedSinceLoad: boolean }>;
}

/** `2026-11-26T02:00:05.123Z` → `20261126T020005Z`: sortable, and safe in every file system. */
export function archiveStamp(at: Date): string {
  return at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

const STAMP = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/;

function stampTime(name: string): number | null {
  const m = STAMP.exec(name);
  if (!m) return null;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

/**
 * Copies the files and writes the manifest; returns the archive folder. A file that changed
 * after it was loaded (the exporter rewrote it) is still copied, and flagged in the manifest.
 * The copy is made in `<folder>.partial` and renamed when whole, so a folder named like a night
 * is always a complete one: a failed copy (a full disk) removes its partial folder, and one left
 * by a killed process keeps the `.partial` name until pruning removes it by age.
 */
export async function archiveFiles(root: string, school: string, runId: number, at: Date, files: readonly ArchivedFile[]): Promise<string> {
  const dir = join(root, school, `${archiveStamp(at)}-run${runId}`);
  const partial = `${dir}.partial`;
  // A retry starts over: the attempt before it may have left part of a copy.
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  try {
    const entries: Array<Manifest['files'][number]> = [];
    for (const f of files) {
      const dest = join(partial, f.name);
      await copyFile(f.path, dest, constants.COPYFILE_EXCL);
      const copied = await sha256File(dest);
      entries.push({ name: f.name, bytes: f.bytes, sha256: f.sha256, changedSinceLoad: copied !== f.sha256 });
    }
    const manifest: Manifest = { school, runId, archivedAt: new Date().toISOString(), files: entries };
    await writeFile(join(partial, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    await rename(partial, dir);
  } catch (err) {
    await rm(partial, { recursive: true, force: true });
    throw err;
  }
  return dir;
}

/** Removes archive folders of `school` older than `days` days; returns the removed paths. */
export async function pruneArchives(root: string, school: string, days: number, now: Date): Promise<string[]> {
  const schoolDir = join(root, school);
  let names: string[];
  try {
    names = await readdir(schoolDir);
  } catch {
    return [];
  }
  const cutoff = now.getTime() - days * 86_400_000;
  const removed: string[] = [];
  for (const name of names.sort()) {
    const t = stampTime(name);
    if (t === null || t >= cutoff) continue;
    await rm(join(schoolDir, name), { recursive: true, force: true });
    removed.push(join(schoolDir, name));
  }
  return removed;
}
