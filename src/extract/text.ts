import { createReadStream } from 'node:fs';

import { createChunkDecoder, type ChunkDecoder } from './decode.js';

/**
 * Bytes read at a time. Measured on a 1M-row ST file: 64 KiB parses faster than 1 MiB and keeps
 * peak RSS near 200 MB instead of 590 MB, because smaller batches die young instead of being
 * promoted to the old generation before the garbage collector gets to them. 32 KiB beats 64 KiB
 * by a tenth: one curly quote or dash (Windows-1252 0x80–0x9F) makes a chunk's text two bytes a
 * character, and at 64 KiB such a string is over V8's 128 KiB limit for ordinary objects, so
 * every one was mapped and unmapped on its own (ten times the page faults). Reading 256 KiB and
 * decoding it 32 KiB at a time saved a little time but cost 40 MB of peak RSS on a million rows
 * (allocations of that size raise glibc's mmap threshold and fragment the heap).
 */
export const READ_CHUNK_BYTES = 1 << 15;

export interface TextChunk {
  /** Decoded text with every line ending (CRLF, CR, LF) turned into LF. */
  readonly text: string;
  /** True on the last chunk, after which nothing follows. */
  readonly final: boolean;
}

const CR_LINE_ENDINGS = /\r\n?/g;

/**
 * Streams a file as decoded text chunks. CR, LF and CRLF all end a line, so every ending is
 * normalised to LF here and parsers need to know only one; a CR at a chunk's end is held back
 * in case its LF arrives in the next chunk. `onEncoding` is told the encoding actually used.
 */
export async function* readTextChunks(path: string, encoding: string, onEncoding?: (encoding: string, bom: boolean) => void): AsyncGenerator<TextChunk> {
  let decoder: ChunkDecoder | undefined;
  let carry = '';
  const normalise = (raw: string, final: boolean): string => {
    let text = carry + raw;
    carry = '';
    if (!final && text.endsWith('\r')) {
      carry = '\r';
      text = text.slice(0, -1);
    }
    return text.indexOf('\r') === -1 ? text : text.replace(CR_LINE_ENDINGS, '\n');
  };
  const stream = createReadStream(path, { highWaterMark: READ_CHUNK_BYTES });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let buf = chunk;
    if (!decoder) {
      const created = createChunkDecoder(encoding, buf);
      decoder = created;
      onEncoding?.(created.encoding, created.bomLength > 0);
      if (created.bomLength > 0) buf = buf.subarray(created.bomLength);
    }
    yield { text: normalise(decoder.write(buf), false), final: false };
  }
  yield { text: normalise(decoder ? decoder.end() : '', true), final: true };
}
