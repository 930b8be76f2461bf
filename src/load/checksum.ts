import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** SHA-256 of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * The checksum of a night's file set: SHA-256 over the sorted "name sha256" lines. The same files
 * give the same checksum whatever order they were found in; one changed byte changes it.
 */
export function filesetChecksum(files: ReadonlyArray<{ name: string; sha256: string }>): string {
  const lines = files.map((f) => `${f.name} ${f.sha256}`).sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}
