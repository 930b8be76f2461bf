import { execFile } from 'node:child_process';
import { copyFile, mkdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { VERSION } from '../src/version.js';
import { tempDir } from './helpers/fixtures.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCRIPT = join(ROOT, 'scripts', 'build-when-stale.mjs');

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

/**
 * A project of its own in `dir` whose `npm run build` writes a line to build.log, fails when
 * FAIL_BUILD is there, and (like ours) stamps dist/ when it succeeded; with the real script.
 */
async function makeProject(): Promise<void> {
  await mkdir(join(dir, 'src'), { recursive: true });
  await mkdir(join(dir, 'scripts'));
  await mkdir(join(dir, 'dist'));
  await copyFile(SCRIPT, join(dir, 'scripts', 'build-when-stale.mjs'));
  const build =
    "node -e \"const fs=require('fs');fs.appendFileSync('build.log','built\\n');if(fs.existsSync('FAIL_BUILD'))process.exit(1)\"" +
    ' && node scripts/build-when-stale.mjs --stamp';
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'p', private: true, scripts: { build } }));
  await writeFile(join(dir, 'tsconfig.json'), '{}');
  await writeFile(join(dir, 'src', 'a.ts'), 'export const a = 1;\n');
}

async function builds(): Promise<number> {
  const log = await readFile(join(dir, 'build.log'), 'utf8').catch(() => '');
  return log.split('\n').filter(Boolean).length;
}

const buildWhenStale = (): Promise<unknown> =>
  run(process.execPath, ['scripts/build-when-stale.mjs'], { cwd: dir }).catch((err: unknown) => err);

describe('npm start builds only when the build is out of date', () => {
  it('builds without a stamp, skips when nothing changed, builds after a source changes, retries a failed build', async () => {
    await makeProject();
    await buildWhenStale();
    expect(await builds()).toBe(1);
    await buildWhenStale();
    expect(await builds()).toBe(1);

    // A source newer than the last build: an edit made after it.
    const stamp = join(dir, 'dist', '.build-stamp');
    const before = new Date(Date.now() - 60_000);
    await utimes(stamp, before, before);
    await buildWhenStale();
    expect(await builds()).toBe(2);
    await buildWhenStale();
    expect(await builds()).toBe(2);

    // A failed build leaves no stamp for the next start to trust.
    await utimes(stamp, before, before);
    await writeFile(join(dir, 'FAIL_BUILD'), '');
    expect(await buildWhenStale()).toMatchObject({ code: 1 });
    expect(await builds()).toBe(3);
    expect(await buildWhenStale()).toMatchObject({ code: 1 });
    expect(await builds()).toBe(4);
  });

  it('`npm start -- --version` runs the built CLI without running tsc when dist/ is current', async () => {
    // The suite's own build (pretest) may be older than someone's edit: bring it up to date first.
    await run(process.execPath, [SCRIPT], { cwd: ROOT });
    const main = join(ROOT, 'dist', 'cli', 'main.js');
    const built = (await stat(main)).mtimeMs;
    const started = await run('npm', ['start', '--', '--version'], { cwd: ROOT });
    expect(started.stdout).toContain(VERSION);
    expect(started.stdout + started.stderr).not.toContain('tsc -p');
    expect((await stat(main)).mtimeMs).toBe(built);
  });
});
