import type { Config } from '../config/index.js';
import type { FileSet } from '../extract/index.js';
import { filesetChecksum, sha256FileAside } from '../load/index.js';
import { withRetry } from '../util/index.js';
import { unreadableMessage } from './load-file.js';

/** What the file set's checksums came to; a file that could not be read has none (and fails the run). */
export interface Checksums {
  readonly checksums: ReadonlyMap<string, string>;
  readonly fileset: string | null;
  /** Files whose bytes could not be read, by name: why, in words (with the path and the OS reason). */
  readonly unreadable: ReadonlyMap<string, string>;
}

/**
 * The file set's checksums, the big files' each on a thread of its own (with retries). A file
 * that cannot be read (removed, no permission, an I/O error) is left out and named, rather than
 * failing the run with no record: the load meets the same file and fails the night on it.
 */
export function checksumFiles(config: Config, set: FileSet): Promise<Checksums> {
  const one = async (f: FileSet['files'][number]): Promise<readonly [string, string | Error]> => {
    try {
      return [f.name, await withRetry(() => sha256FileAside(f.path, f.bytes), config.retry)];
    } catch (err) {
      return [f.name, new Error(unreadableMessage(f.path, err))];
    }
  };
  return Promise.all(set.files.map(one)).then((pairs) => {
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
}
