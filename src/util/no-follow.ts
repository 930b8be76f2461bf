import { constants, type ReadStream } from 'node:fs';
import { open } from 'node:fs/promises';

/**
 * Flags every read of a source file opens with. The export folder is writable by the exporter
 * (and whoever else shares it): a name swapped for a symlink must not make us read, load or
 * archive the link's target, so a symlink fails the open (ELOOP) and the file counts as
 * unreadable. O_NOFOLLOW does not exist on Windows, where symlinks need privileges to create.
 */
export const SOURCE_READ_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0);

/**
 * A read stream over a source file opened with SOURCE_READ_FLAGS. Opened before the stream is
 * made, so ELOOP (or ENOENT, EACCES) rejects here with its errno code, and the stream closes the
 * descriptor when it ends or is destroyed.
 */
export async function openSourceStream(path: string, highWaterMark: number): Promise<ReadStream> {
  const handle = await open(path, SOURCE_READ_FLAGS);
  return handle.createReadStream({ highWaterMark });
}
