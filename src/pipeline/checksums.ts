import { createHash } from 'node:crypto';

import type { Config } from '../config/index.js';
import type { FileSet } from '../extract/index.js';
import { filesetChecksum, sha256FileAside } from '../load/index.js';
import { readSourceChunks, WHOLE_READ_BYTES, withRetry } from '../util/index.js';
import { unreadableMessage } from './load-file.js';

/** What the file set's checksums came to; a file that could not be read has none (and fails the run). */
export interface Checksums {
  readonly checksums: ReadonlyMap<string, string>;
  readonly fileset: string | null;
  /** Files whose bytes could not be read, by name: why, in words (with the path and the OS reason). */
  readonly unreadable: ReadonlyMap<string, string>;
}

/** Bytes of small files kept for their load at most, for one school's run. */
export const KEPT_BYTES = 32 << 20;

/** A file set's checksums as they come in: each file's on its own, and all of them. */
export interface ChecksumWork {
  /** Every file's checksum, and the set's. */
  readonly all: Promise<Checksums>;
  /**
   * The file's checksum once it is done, or why the file could not be read (in words, with its
   * path and the OS's reason).
   */
  checksum(name: string): Promise<{ readonly sha256: string } | { readonly unreadable: string }>;
  /**
   * The bytes the file's checksum was taken over, when it was small enough to be read whole and
   * kept (see KEPT_BYTES); given once, then forgotten. Only after `checksum(name)`.
   */
  takeBytes(name: string): Buffer | undefined;
}

/**
 * The file set's checksums, the big files' each on a thread of its own (with retries). A file
 * that cannot be read (removed, no permission, an I/O error) is left out and named, rather than
 * failing the run with no record: the load meets the same file and fails the night on it. Each
 * file's checksum can be waited for on its own, so a run that does not need the set's checksum
 * before it loads (forced, or a school's first) loads a file as soon as that file is hashed.
 *
 * A small file is read whole and its bytes kept for its load: it is read once, not twice, and
 * the rows loaded are exactly the bytes the ledger's checksum (and the archive) describes, even
 * if the exporter rewrites the file in between.
 */
export function checksumFiles(config: Config, set: FileSet): ChecksumWork {
  const kept = new Map<string, Buffer>();
  let budget = KEPT_BYTES;
  const sum = async (f: FileSet['files'][number]): Promise<string> => {
    if (f.bytes >= WHOLE_READ_BYTES || f.bytes > budget) return sha256FileAside(f.path, f.bytes);
    const chunks: Buffer[] = [];
    for await (const chunk of readSourceChunks(f.path, 1 << 20)) chunks.push(chunk);
    const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
    // A file that grew past what is kept since discovery saw it is loaded from its path again.
    if (bytes.length <= budget) {
      budget -= bytes.length;
      kept.set(f.name, bytes);
    }
    return createHash('sha256').update(bytes).digest('hex');
  };
  const one = async (f: FileSet['files'][number]): Promise<readonly [string, string | Error]> => {
    try {
      return [f.name, await withRetry(() => sum(f), config.retry)];
    } catch (err) {
      return [f.name, new Error(unreadableMessage(f.path, err))];
    }
  };
  // All at once: the reads wait in libuv's thread pool while the first files load. (Taken in
  // turns, each read waited for the load to yield to the event loop, which reading kept bytes never does.)
  const each = new Map(set.files.map((f) => [f.name, one(f)] as const));
  const all = Promise.all(each.values()).then((pairs) => {
    const checksums = new Map<string, string>();
    const unreadable = new Map<string, string>();
    for (const [name, sum] of pairs) {
      if (typeof sum === 'string') checksums.set(name, sum);
      else unreadable.set(name, sum.message);
    }
    const fileset =
      unreadable.size > 0 ? null : filesetChecksum([...checksums].map(([name, sha256]) => ({ name, sha256 })));
    return { checksums, fileset, unreadable };
  });
  return {
    all,
    checksum: async (name) => {
      const pair = each.get(name);
      if (pair === undefined) return { unreadable: `${name} is not in the file set` };
      const [, sum] = await pair;
      return typeof sum === 'string' ? { sha256: sum } : { unreadable: sum.message };
    },
    takeBytes: (name) => {
      const bytes = kept.get(name);
      kept.delete(name);
      return bytes;
    },
  };
}
