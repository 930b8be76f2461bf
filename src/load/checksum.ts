import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

import { readSourceChunks, SOURCE_READ_FLAGS } from '../util/index.js';

/**
 * SHA-256 of a file, read as every source file is (see readSourceChunks: whole when small,
 * streamed when big); a symlink is refused (ELOOP), as every read of a source file refuses it.
 */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of readSourceChunks(path, 1 << 20)) hash.update(chunk);
  return hash.digest('hex');
}

/**
 * Files at least this big are hashed on a thread of their own. Starting one costs some 20 ms;
 * hashing costs about 1 ms per MB, on the thread that reads and parses the file otherwise.
 */
export const OFF_THREAD_BYTES = 8 << 20;

/**
 * The same streamed hash, as a worker thread runs it (CommonJS: an eval'd worker is a script),
 * opened with the flags it is given (SOURCE_READ_FLAGS: never through a symlink).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { createReadStream, openSync } = require('node:fs');
const fail = (err) => parentPort.postMessage({ error: { message: err.message, code: err.code, syscall: err.syscall } });
let fd;
try {
  fd = openSync(workerData.path, workerData.flags);
} catch (err) {
  fail(err);
}
if (fd !== undefined) {
  const hash = createHash('sha256');
  createReadStream('', { fd, highWaterMark: 1 << 20 })
    .on('data', (chunk) => hash.update(chunk))
    .on('error', fail)
    .on('end', () => parentPort.postMessage({ sha256: hash.digest('hex') }));
}
`;

/**
 * SHA-256 of a file of `bytes` bytes: on a worker thread when it is big, so that a night's
 * largest files are hashed while they are loaded rather than before. Errors keep their errno
 * code, so retries treat them as they treat sha256File's.
 */
export function sha256FileAside(path: string, bytes: number): Promise<string> {
  if (bytes < OFF_THREAD_BYTES) return sha256File(path);
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, flags: SOURCE_READ_FLAGS } });
    let settled = false;
    worker.once('message', (m: { sha256?: string; error?: { message: string; code?: string; syscall?: string } }) => {
      settled = true;
      if (m.sha256 !== undefined) resolve(m.sha256);
      // The errno code and syscall make it a file-system error to the caller (ETL_SOURCE_UNREADABLE).
      else
        reject(
          Object.assign(new Error(m.error?.message ?? 'checksum failed'), {
            code: m.error?.code,
            syscall: m.error?.syscall,
          }),
        );
      void worker.terminate();
    });
    worker.once('error', (err) => {
      settled = true;
      reject(err);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`the checksum thread for ${path} stopped (exit code ${code})`));
    });
  });
}

/**
 * The checksum of a night's file set: SHA-256 over the sorted "name sha256" lines. The same files
 * give the same checksum whatever order they were found in; one changed byte changes it.
 */
export function filesetChecksum(files: ReadonlyArray<{ name: string; sha256: string }>): string {
  const lines = files.map((f) => `${f.name} ${f.sha256}`).sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}
