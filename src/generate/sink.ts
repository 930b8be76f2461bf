import { once } from 'node:events';
import { createWriteStream } from 'node:fs';

import { encodeWindows1252 } from '../util/index.js';

/**
 * Streaming output for generated files. Text is gathered into ~1 MB pieces, encoded as
 * Windows-1252 and handed to a WriteStream; a write that fills the stream's buffer returns a
 * promise that settles on 'drain', so a 1,000,000-row file never sits in memory.
 */

/** Bytes gathered before a write; large enough to amortise the syscall, small enough to stream. */
const CHUNK_BYTES = 1 << 20;

/**
 * Characters outside ASCII and the Latin-1 letters. encodeWindows1252 has a fast path only for
 * text without them (Latin-1 bytes map one to one); text with them (Š, ’, –) takes a per-character
 * path about 40× slower, so such lines are encoded on their own instead of in the 1 MB piece.
 */
// eslint-disable-next-line no-control-regex
export const NEEDS_CP1252_MAP = /[^\u0000-\u007F\u00A0-\u00FF]/;

/** Appends text to a file as Windows-1252. */
export interface TextSink {
  /**
   * Queues a piece of text; returns a promise only when the caller should wait (backpressure).
   * `mapped` says whether the text holds characters of NEEDS_CP1252_MAP; callers that already
   * know pass it to save a scan.
   */
  write(text: string, mapped?: boolean): Promise<void> | undefined;
  /** Writes what is queued, closes the file and returns its size in bytes. */
  close(): Promise<number>;
}

/** Opens `path` for writing (replacing it) as a Windows-1252 text sink. */
export function createTextSink(path: string): TextSink {
  const stream = createWriteStream(path, { highWaterMark: 4 * CHUNK_BYTES });
  let failure: Error | null = null;
  stream.on('error', (err) => {
    failure = err;
  });
  let bytes = 0;
  let pending = '';
  let parts: Buffer[] = [];
  let partBytes = 0;

  const emit = (): Promise<void> | undefined => {
    if (pending !== '') {
      parts.push(encodeWindows1252(pending));
      partBytes += pending.length;
      pending = '';
    }
    if (parts.length === 0) return undefined;
    const chunk = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, partBytes);
    parts = [];
    partBytes = 0;
    if (failure) return Promise.reject(failure);
    bytes += chunk.length;
    if (stream.write(chunk)) return undefined;
    // once() rejects if 'error' fires while we wait, so a full disk surfaces here.
    return once(stream, 'drain').then(() => undefined);
  };

  return {
    write(text, mapped = NEEDS_CP1252_MAP.test(text)) {
      if (mapped) {
        if (pending !== '') {
          parts.push(encodeWindows1252(pending));
          partBytes += pending.length;
          pending = '';
        }
        const encoded = encodeWindows1252(text);
        parts.push(encoded);
        partBytes += encoded.length;
      } else {
        pending += text;
      }
      return pending.length + partBytes >= CHUNK_BYTES ? emit() : undefined;
    },
    async close() {
      await emit();
      if (failure) throw failure;
      const closed = once(stream, 'close');
      stream.end();
      await closed;
      if (failure) throw failure;
      return bytes;
    },
  };
}
