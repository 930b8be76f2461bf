import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

/**
 * Flags every read of a source file opens with. The export folder is writable by the exporter
 * (and whoever else shares it): a name swapped for a symlink must not make us read, load or
 * archive the link's target, so a symlink fails the open (ELOOP) and the file counts as
 * unreadable. O_NOFOLLOW does not exist on Windows, where symlinks need privileges to create.
 */
export const SOURCE_READ_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0);

/** Source files below this size are read whole rather than streamed (see `readSourceChunks`). */
export const WHOLE_READ_BYTES = 4 << 20;

/**
 * A source file's bytes, opened with SOURCE_READ_FLAGS: a file under WHOLE_READ_BYTES in one
 * read, a bigger one streamed `chunkBytes` at a time so memory stays flat. A night is mostly
 * small files, and each chunk of a stream is a trip through libuv's thread pool that the reader
 * waits for: reading them whole took a fifth off an unchanged re-run of a school. Errors at the
 * open reject with their errno code (ELOOP for a symlink, ENOENT, EACCES).
 */
export async function* readSourceChunks(path: string, chunkBytes: number): AsyncGenerator<Buffer> {
  const handle = await open(path, SOURCE_READ_FLAGS);
  let streaming = false;
  try {
    if ((await handle.stat()).size < WHOLE_READ_BYTES) {
      // Read to the end, whatever the size now: a file still growing is read as it is.
      const whole = await handle.readFile();
      if (whole.length > 0) yield whole;
      return;
    }
    streaming = true;
    // The stream owns the descriptor from here and closes it when it ends or is destroyed.
    for await (const chunk of handle.createReadStream({ highWaterMark: chunkBytes })) yield chunk as Buffer;
  } finally {
    if (!streaming) await handle.close();
  }
}
