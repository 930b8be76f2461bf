import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { generateSchool } from '../src/generate/index.js';
import { runEtl } from '../src/pipeline/index.js';
import { createTarget, DIALECTS, type Target } from './helpers/targets.js';

/**
 * A full archive disk (issue 23): the archive is a 64 KiB tmpfs, the night's files are several
 * hundred KiB, so the copy fails part way with ENOSPC. The data is already committed by then: the
 * run must stay published, report the archive failure, and leave no partial archive folder that
 * looks like a night's copy. Mounting needs root (CI runs as root); where it is not permitted the
 * test says so in its own test rather than vanishing as a skip.
 */

const run = promisify(execFile);
const SCHOOL = '8865';

/** Mounts a small tmpfs; the reason it could not, otherwise. */
async function mountSmallTmpfs(): Promise<{ dir: string } | { reason: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'cases-etl-full-archive-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
    return { dir };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    return { reason: (err as Error).message.trim().split('\n').pop() ?? 'mount failed' };
  }
}

// Decided before the tests are collected, so `runIf` can choose.
const mounted = await mountSmallTmpfs();
const archive = 'dir' in mounted ? mounted.dir : null;

afterAll(async () => {
  if (archive === null) return;
  await run('umount', [archive]);
  await rm(archive, { recursive: true, force: true });
});

// Always run: in CI (root) the mount must work, so the full-disk tests cannot quietly not run;
// elsewhere the reason is printed.
it('mounts a 64k tmpfs for the full-disk tests, or says why it cannot', () => {
  const reason = 'reason' in mounted ? mounted.reason : '';
  if (archive === null)
    console.warn(
      `archive-full-disk: NOT RUN — mounting a 64k tmpfs is not permitted here (${reason}); run as root to cover a full archive disk`,
    );
  if (process.env.CI === 'true' || process.getuid?.() === 0) expect(reason).toBe('');
  else expect(archive !== null || reason !== '').toBe(true);
});

describe.runIf(archive !== null).each(DIALECTS)('a full archive disk on %s', (dialect) => {
  let target: Target;
  let source: string;

  beforeAll(async () => {
    target = await createTarget(dialect);
    source = join(target.dir, 'export');
    await generateSchool({ outDir: source, students: 150, seed: 5 });
    const settled = new Date(Date.now() - 60_000);
    for (const name of await readdir(source)) await utimes(join(source, name), settled, settled);
  });
  afterAll(async () => {
    await target?.cleanup();
    if (archive !== null) await rm(join(archive, SCHOOL), { recursive: true, force: true });
  });

  it('publishes the night, reports the archive failure and leaves no partial archive folder', async () => {
    const result = await runEtl({
      config: target.config({ CASES_DIRECTORY: source, CASES_ARCHIVE_DIRECTORY: archive as string }),
      notifier: null,
    });
    expect(['succeeded', 'warning']).toContain(result.status);
    expect(
      result.errors.some((e) => /^archive failed: .*ENOSPC/.test(e)),
      result.errors.join('; '),
    ).toBe(true);
    expect(result.runs[0]?.archivePath).toBeNull();

    const probe = await target.probe();
    const runs = await probe.all(`SELECT status, archive_path FROM etl_runs`);
    const students = await probe.all(`SELECT count(*) AS n FROM cases_st`);
    await probe.close();
    expect(runs).toEqual([{ status: result.status, archive_path: null }]);
    expect(Number(students[0]?.n)).toBe(150);

    const left = await readdir(join(archive as string, SCHOOL)).catch(() => []);
    expect(left, 'a failed copy must not leave a folder that looks like an archived night').toEqual([]);
  });
});
