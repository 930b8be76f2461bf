// `npm start` builds only when the build is out of date: tsc took 7 of its 8.4 seconds every time,
// even when dist/ was the build of the sources as they are.
//
//   node scripts/build-when-stale.mjs           runs `npm run build` when a source is newer than the last build
//   node scripts/build-when-stale.mjs --stamp   records that dist/ was just built (the end of `npm run build`)
//
// The stamp is written only after a build that succeeded, so a build that failed on a type error is
// tried again (and fails again, loudly) rather than leaving its half-right output to be run.
import { spawnSync } from 'node:child_process';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** What the build reads: every file under src/, and the files that say how it is built. */
export const BUILD_INPUTS = ['src', 'tsconfig.json', 'tsconfig.build.json', 'scripts/copy-migrations.mjs'];

/** Written at the end of every successful build; its mtime is when. */
export const STAMP = join('dist', '.build-stamp');

/** The newest modification time (ms) among `path` and, for a folder, everything under it; 0 when absent. */
export async function newestMtime(path) {
  const info = await stat(path).catch(() => null);
  if (info === null) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs; // a file deleted or renamed shows as the folder's own change
  for (const entry of await readdir(path)) newest = Math.max(newest, await newestMtime(join(path, entry)));
  return newest;
}

/** Whether `root`'s dist/ needs building: no stamp, or an input changed after it. */
export async function isStale(root = ROOT) {
  const built = await stat(join(root, STAMP)).catch(() => null);
  if (built === null) return true;
  for (const input of BUILD_INPUTS) if ((await newestMtime(join(root, input))) > built.mtimeMs) return true;
  return false;
}

async function main() {
  if (process.argv.includes('--stamp')) {
    await writeFile(join(ROOT, STAMP), `${new Date().toISOString()}\n`);
    return;
  }
  if (!(await isStale())) return;
  // npm_execpath is the npm that runs this script (`npm start`); plain `npm` when run by hand.
  const npm = process.env.npm_execpath;
  const build = npm
    ? spawnSync(process.execPath, [npm, 'run', 'build'], { cwd: ROOT, stdio: 'inherit' })
    : spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  process.exitCode = build.status ?? 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
