import { rename } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { EtlError } from '../src/errors/index.js';
import { runEtl } from '../src/pipeline/index.js';
import { isTransientIoError, withRetry } from '../src/util/retry.js';
import { copySample } from './helpers/nights.js';
import { createTarget, type Target } from './helpers/targets.js';

describe('withRetry', () => {
  it('retries transient I/O errors with exponential backoff, then succeeds', async () => {
    const delays: number[] = [];
    let calls = 0;
    const value = await withRetry(
      async () => {
        calls++;
        if (calls < 3) throw Object.assign(new Error('share busy'), { code: 'EBUSY' });
        return 'ok';
      },
      { attempts: 3, delayMs: 5, factor: 3, onRetry: (_e, _a, d) => delays.push(d) },
    );
    expect(value).toBe('ok');
    expect(calls).toBe(3);
    expect(delays).toEqual([5, 15]);
  });

  it('gives up after the last attempt, and never retries bad data', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw Object.assign(new Error('gone'), { code: 'EIO' });
        },
        { attempts: 2, delayMs: 1, factor: 2 },
      ),
    ).rejects.toThrow('gone');
    expect(calls).toBe(2);
    calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new EtlError('ETL_PARSE_BAD_QUOTE', 'bad');
        },
        { attempts: 5, delayMs: 1, factor: 2 },
      ),
    ).rejects.toThrow('bad');
    expect(calls).toBe(1);
    expect(isTransientIoError(Object.assign(new Error(), { code: 'ENOSPC' }))).toBe(false);
  });
});

describe('retries in a run', () => {
  let target: Target;
  beforeEach(async () => (target = await createTarget('sqlite')));
  afterEach(() => target.cleanup());

  it('waits for an export folder that appears after the first attempt', async () => {
    const src = join(target.dir, 'late');
    const staged = join(target.dir, 'staged');
    await copySample(staged);
    // The folder appears whole (a rename), as a remounted share would.
    setTimeout(() => void rename(staged, src), 150);
    const result = await runEtl({
      config: target.config({
        CASES_DIRECTORY: src,
        ETL_RETRY_ATTEMPTS: '4',
        ETL_RETRY_DELAY_MS: '200',
        ETL_RETRY_FACTOR: '2',
      }),
    });
    expect(result.status).toBe('succeeded');
  });

  it('fails clearly when the folder never appears', async () => {
    const src = join(target.dir, 'never');
    await expect(
      runEtl({ config: target.config({ CASES_DIRECTORY: src, ETL_RETRY_ATTEMPTS: '2', ETL_RETRY_DELAY_MS: '10' }) }),
    ).rejects.toMatchObject({ code: 'ETL_SOURCE_NOT_FOUND' });
  });
});
