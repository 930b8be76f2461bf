import { createHash } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { SOURCE_READ_FLAGS } from '../util/index.js';

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

/** Why a loaded file has no copy in the archive: its name no longer holds the bytes that were loaded. */
export type NotArchivedReason = 'changed since it was read' | 'removed since it was read';

/**
 * One file of the night, as loaded (`bytes`, `sha256`). `archived: false` means the folder holds
 * no copy of it: what its name held at archive time was not what was loaded, so it is not kept.
 */
export type ManifestEntry =
  | { readonly name: string; readonly bytes: number; readonly sha256: string; readonly archived: true }
  | {
      readonly name: string;
      readonly bytes: number;
      readonly sha256: string;
      readonly archived: false;
      readonly reason: NotArchivedReason;
    };

export interface Manifest {
  readonly school: string;
  readonly runId: number;
  readonly archivedAt: string;
  readonly files: readonly ManifestEntry[];
}

/** Where a night was archived, and the files left out of it (with why). */
export interface ArchiveResult {
  readonly path: string;
  readonly notArchived: ReadonlyArray<{ readonly name: string; readonly reason: NotArchivedReason }>;
}

/** `2026-11-26T02:00:05.123Z` → `20261126T020005Z`: sortable, and safe in every file system. */
export function archiveStamp(at: Date): string {
  return at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

const STAMP = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/;

function stampTime(name: string): number | null {
  const m = STAMP.exec(name);
  if (!m) return null;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

/**
 * Copies `source` to `dest` (created, never overwritten) if its bytes are still those loaded:
 * opened once without following a symlink, hashed while copied, and the copy deleted if the hash
 * differs. Returns null when copied, else why not. A copy of whatever the name now points at would
 * put bytes that were never loaded (another file's, a link's target) into the archive.
 */
async function copyIfUnchanged(source: string, dest: string, sha256: string): Promise<NotArchivedReason | null> {
  let input;
  try {
    input = await open(source, SOURCE_READ_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') return 'changed since it was read';
    if (code === 'ENOENT') return 'removed since it was read';
    throw err;
  }
  const hash = createHash('sha256');
  try {
    // The copy keeps the source's permission bits, as copyFile did: the files hold personal data.
    const { mode } = await input.stat();
    const output = await open(dest, 'wx', mode & 0o777);
    try {
      for await (const chunk of input.createReadStream({ highWaterMark: 1 << 20, autoClose: false })) {
        hash.update(chunk as Buffer);
        await output.write(chunk as Buffer);
      }
    } finally {
      await output.close();
    }
  } finally {
    await input.close();
  }
  if (hash.digest('hex') === sha256) return null;
  await rm(dest, { force: true });
  return 'changed since it was read';
}

/**
 * Copies the files and writes the manifest. A file whose bytes are no longer those loaded (the
 * exporter rewrote it, or its name became a symlink) is left out and marked in the manifest, and
 * the result names it. On a failure the half-made folder is removed, so a retry starts afresh.
 */
export async function archiveFiles(
  root: string,
  school: string,
  runId: number,
  at: Date,
  files: readonly ArchivedFile[],
): Promise<ArchiveResult> {
  const dir = join(root, school, `${archiveStamp(at)}-run${runId}`);
  // Made in `<folder>.partial` and renamed when whole, so a folder named like a night is always a
  // complete one: a failed copy (a full disk) removes its partial folder, and one left by a killed
  // process keeps the `.partial` name until pruning removes it by age. A retry starts over.
  const partial = `${dir}.partial`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  try {
    const entries: ManifestEntry[] = [];
    const notArchived: Array<ArchiveResult['notArchived'][number]> = [];
    for (const f of files) {
      const reason = await copyIfUnchanged(f.path, join(partial, f.name), f.sha256);
      const entry = { name: f.name, bytes: f.bytes, sha256: f.sha256 };
      if (reason === null) {
        entries.push({ ...entry, archived: true });
      } else {
        entries.push({ ...entry, archived: false, reason });
        notArchived.push({ name: f.name, reason });
      }
    }
    const manifest: Manifest = { school, runId, archivedAt: new Date().toISOString(), files: entries };
    await writeFile(join(partial, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    await rename(partial, dir);
    return { path: dir, notArchived };
  } catch (err) {
    await rm(partial, { recursive: true, force: true });
    throw err;
  }
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
