import { createHash } from 'node:crypto';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { readTextChunks } from '../src/extract/index.js';
import { OFF_THREAD_BYTES, sha256File, sha256FileAside } from '../src/load/index.js';

describe('file checksums', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cases-etl-checksum-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('hashes a big file on a thread of its own to the same SHA-256 as a small one inline', async () => {
    const big = Buffer.alloc(OFF_THREAD_BYTES + 12_345);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 11)) & 0xff;
    const small = big.subarray(0, 70_000);
    await writeFile(join(dir, 'big.csv'), big);
    await writeFile(join(dir, 'small.csv'), small);
    const expected = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    expect(await sha256FileAside(join(dir, 'big.csv'), big.length)).toBe(expected(big));
    expect(await sha256FileAside(join(dir, 'small.csv'), small.length)).toBe(expected(small));
    expect(await sha256File(join(dir, 'big.csv'))).toBe(expected(big));
  });

  it('fails with the errno code on either path, so retries see a transient error as one', async () => {
    const missing = join(dir, 'gone.csv');
    await expect(sha256FileAside(missing, OFF_THREAD_BYTES)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(sha256FileAside(missing, 10)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it("never reads through a symlink: the checksum on either path and the load's reader fail with ELOOP", async () => {
    await writeFile(join(dir, 'secret.txt'), 'root:$6$not-a-real-hash:19000:0:99999:7:::\n');
    const link = join(dir, 'ST_8865.csv');
    await symlink(join(dir, 'secret.txt'), link);
    const eloop = { code: 'ELOOP', syscall: 'open' };
    await expect(sha256File(link)).rejects.toMatchObject(eloop);
    await expect(sha256FileAside(link, 10)).rejects.toMatchObject(eloop);
    await expect(sha256FileAside(link, OFF_THREAD_BYTES)).rejects.toMatchObject(eloop);
    await expect(readTextChunks(link, 'windows-1252').next()).rejects.toMatchObject(eloop);
  });
});
