import { createChunkDecoder, readSourceChunks, type ChunkDecoder } from '../util/index.js';

/**
 * Where a source file's bytes come from: its path, or the bytes themselves when they were read
 * already (a small file is read whole for its checksum, and loaded from those same bytes).
 */
export type Source = string | Buffer;

/**
 * Bytes read at a time, decoded DECODE_CHUNK_BYTES at a time. Measured on a 1M-row ST file: small
 * batches parse faster than 1 MiB ones and keep peak RSS near 160 MB instead of 590 MB, because
 * they die young instead of being promoted to the old generation before the garbage collector
 * gets to them. Text is decoded 32 KiB at a time: one curly quote or dash (Windows-1252
 * 0x80–0x9F) makes a chunk's text two bytes a character, and at 64 KiB such a string is over
 * V8's 128 KiB limit for ordinary objects, so every one was mapped and unmapped on its own (ten
 * times the page faults). Reads of 64 KiB halve the reads of 32 KiB ones (each a trip through
 * libuv's thread pool) for a little less time and no more memory; reads of 256 KiB cost 40 MB of
 * peak RSS (allocations of that size raise glibc's mmap threshold and fragment the heap).
 */
export const READ_CHUNK_BYTES = 1 << 16;

/** Bytes decoded into one text chunk (see READ_CHUNK_BYTES). */
export const DECODE_CHUNK_BYTES = 1 << 15;

/** Bytes of one read (or of a file read whole) decoded between turns of the event loop; a multiple of DECODE_CHUNK_BYTES. */
const YIELD_BYTES = 1 << 19;

export interface TextChunk {
  /** Decoded text with every line ending (CRLF, CR, LF) turned into LF. */
  readonly text: string;
  /** True on the last chunk, after which nothing follows. */
  readonly final: boolean;
  /**
   * False when the text certainly holds no U+0000: found from the bytes (a memchr, where a
   * search of the text costs a pass over every character), for encodings in which U+0000 is
   * the zero byte and no other character has one. True otherwise.
   */
  readonly mayHoldNul: boolean;
  /** Bytes of the source read up to the end of this chunk's text: how far through the file it is. */
  readonly bytesRead: number;
}

/** Encodings in which U+0000 is the byte 0x00 and no other character holds a zero byte. */
const NUL_IS_ZERO_BYTE = new Set(['windows-1252', 'latin1', 'utf-8']);

/**
 * Streams a file (or its bytes) as decoded text chunks. CR, LF and CRLF all end a line, so every ending is
 * normalised to LF here and parsers need to know only one; a CR at a chunk's end is held back
 * in case its LF arrives in the next chunk. `onEncoding` is told the encoding actually used.
 */
export async function* readTextChunks(
  source: Source,
  encoding: string,
  onEncoding?: (encoding: string, bom: boolean) => void,
): AsyncGenerator<TextChunk> {
  let decoder: ChunkDecoder | undefined;
  let zeroByteNul = false;
  let carry = '';
  let bytesRead = 0;
  const normalise = (raw: string, final: boolean): string => {
    let text = carry + raw;
    carry = '';
    if (!final && text.endsWith('\r')) {
      carry = '\r';
      text = text.slice(0, -1);
    }
    if (text.indexOf('\r') === -1) return text;
    // CRLF, which eduHub writes, by plain string search: a regular expression's replace took two
    // and a half times as long. Every CR left after that was a line ending on its own, even one
    // now followed by LF ("\r\r\n" is two line endings).
    const lf = text.replaceAll('\r\n', '\n');
    return lf.indexOf('\r') === -1 ? lf : lf.replaceAll('\r', '\n');
  };
  // Never through a symlink: see SOURCE_READ_FLAGS.
  for await (const chunk of typeof source === 'string' ? readSourceChunks(source, READ_CHUNK_BYTES) : [source]) {
    let buf = chunk;
    if (!decoder) {
      const created = createChunkDecoder(encoding, buf);
      decoder = created;
      zeroByteNul = NUL_IS_ZERO_BYTE.has(created.encoding);
      onEncoding?.(created.encoding, created.bomLength > 0);
      bytesRead += created.bomLength;
      if (created.bomLength > 0) buf = buf.subarray(created.bomLength);
    }
    for (let at = 0; at < buf.length; at += DECODE_CHUNK_BYTES) {
      // Bytes already in memory never wait for I/O, so nothing else would run until the whole
      // night was loaded: every YIELD_BYTES the event loop gets its turn (a job's lock renewal,
      // its progress, HTTP requests to the same process).
      if (at > 0 && at % YIELD_BYTES === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      const bytes = buf.subarray(at, at + DECODE_CHUNK_BYTES);
      bytesRead += bytes.length;
      yield {
        text: normalise(decoder.write(bytes), false),
        final: false,
        mayHoldNul: !zeroByteNul || bytes.indexOf(0) !== -1,
        bytesRead,
      };
    }
  }
  // What a decoder still holds at the end is the replacement for an unfinished sequence.
  yield { text: normalise(decoder ? decoder.end() : '', true), final: true, mayHoldNul: !zeroByteNul, bytesRead };
}
