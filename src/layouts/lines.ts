import { coerceError, EtlError } from '../errors/index.js';
import { createChunkDecoder, readSourceChunks, type ChunkDecoder } from '../util/index.js';

/**
 * Lines of a text file for the layout tools (`layouts infer`, `layouts check`), streamed: the
 * file is decoded in its encoding (a UTF-8 BOM wins) and split on CRLF, LF or CR, without the
 * line endings. The tools look at a file before any run, so this is simpler than extract's reader.
 */
export async function* readLines(path: string, encoding = 'windows-1252'): AsyncGenerator<string> {
  let decoder: (ChunkDecoder & { bomLength: number }) | undefined;
  let carry = '';
  try {
    for await (const chunk of readSourceChunks(path, 1 << 16)) {
      let bytes = chunk;
      if (!decoder) {
        decoder = createChunkDecoder(encoding, chunk);
        bytes = chunk.subarray(decoder.bomLength);
      }
      // A CR at a chunk's end waits for the next chunk: it may be the first half of a CRLF.
      const text = carry + decoder.write(bytes);
      const parts = text.split(/\r\n|\n|\r(?!$)/);
      carry = parts.pop() ?? '';
      for (const line of parts) yield line;
    }
  } catch (cause) {
    if (cause instanceof EtlError) throw cause;
    throw unreadable(path, cause);
  }
  const rest = carry + (decoder ? decoder.end() : '');
  const tail = rest.replace(/\r$/, '');
  if (tail !== '') yield tail;
}

function unreadable(path: string, cause: unknown): EtlError {
  return new EtlError('ETL_LAYOUT_SAMPLE_UNREADABLE', `cannot read ${path}: ${coerceError(cause).message}`, { cause });
}

/** The first `limit` lines of a file (its sample), stopping the read as soon as they are in. */
export async function readSampleLines(path: string, limit: number, encoding?: string): Promise<string[]> {
  const lines: string[] = [];
  if (limit <= 0) return lines;
  for await (const line of readLines(path, encoding)) {
    lines.push(line);
    if (lines.length >= limit) break;
  }
  return lines;
}
