import { execFile } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { describe, expect, it } from 'vitest';

import { loadConfig, VARIABLES } from '../src/config/index.js';

/**
 * Keeps deploy/ true to the code: the environment file names only variables the configuration
 * reads, with values it accepts; the units start real CLI commands from the installed path; and
 * systemd waits longer on stop than the process waits for its current run.
 */

const run = promisify(execFile);
const ROOT = new URL('../', import.meta.url);
const CLI = fileURLToPath(new URL('dist/cli/main.js', ROOT));
const UNITS = ['deploy/cases-etl.service', 'deploy/cases-etl-worker@.service'] as const;
const ENV_FILE = 'deploy/cases-etl.env.example';
/** Where the units expect the build; README.md's "Running in production" installs it there. */
const INSTALLED = '/opt/cases-etl';

const read = (path: string): Promise<string> => readFile(new URL(path, ROOT), 'utf8');

/** `NAME=value` lines, set or commented out (`# NAME=value`), as systemd's EnvironmentFile= reads them. */
function assignments(text: string): Array<{ name: string; value: string; commented: boolean }> {
  return [...text.matchAll(/^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$/gm)].map(([, hash, name = '', raw = '']) => ({
    name,
    value: raw.trim().replace(/^"(.*)"$|^'(.*)'$/, '$1$2'),
    commented: hash !== undefined,
  }));
}

/** Every value of `key` in a unit's [Service] and [Unit] sections (later lines last). */
function settings(unit: string, key: string): string[] {
  return [...unit.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map(([, value = '']) => value.trim());
}

/** A systemd time span (`90s`, `1min 30s`, `90`: seconds when bare) in seconds. */
function seconds(span: string): number {
  const scale: Record<string, number> = { ms: 0.001, s: 1, sec: 1, m: 60, min: 60, h: 3600 };
  let total = 0;
  for (const [, n = '0', unit = 's'] of span.matchAll(/(\d+)\s*([a-z]*)/g)) {
    const factor = scale[unit];
    if (factor === undefined) throw new Error(`unknown time unit in ${span}`);
    total += Number(n) * factor;
  }
  return total;
}

describe('deploy/', () => {
  it('the environment file names only variables the configuration reads, with values it accepts', async () => {
    const lines = assignments(await read(ENV_FILE));
    const known = new Set(VARIABLES.map((v) => v.name));
    expect(lines.length).toBeGreaterThan(10);
    for (const { name } of lines) expect(known.has(name as never), `${name} in ${ENV_FILE}`).toBe(true);
    for (const name of ['DATABASE_URL', 'DATABASE_SCHEMA', 'REDIS_URL', 'CASES_DIRECTORY', 'ETL_SCHEDULE'])
      expect(
        lines.some((l) => l.name === name && !l.commented),
        `${name} set`,
      ).toBe(true);
    // Every example, uncommented, is a configuration loadConfig accepts; `<…>` marks a value to fill in.
    const env = Object.fromEntries(lines.filter((l) => !l.value.includes('<')).map((l) => [l.name, l.value]));
    const config = loadConfig(env);
    expect(config.database.kind).toBe('postgres');
    expect(config.jobs.redisUrl).not.toBeNull();
  });

  it('both units start a real CLI command from the installed build, with the shared environment file', async () => {
    await access(CLI).catch(() => {
      throw new Error('dist/cli/main.js is missing: run `npm run build` first');
    });
    const commands: string[] = [];
    for (const path of UNITS) {
      const unit = await read(path);
      expect(settings(unit, 'EnvironmentFile'), path).toEqual(['/etc/cases-etl/cases-etl.env']);
      expect(settings(unit, 'WorkingDirectory'), path).toEqual([INSTALLED]);
      const [exec, ...more] = settings(unit, 'ExecStart');
      expect(more, path).toEqual([]);
      // A worker's HTTP port is its instance name: the environment file's PORT is serve's.
      const prefix = `${path.includes('@') ? '/usr/bin/env PORT=%i ' : ''}node ${INSTALLED}/dist/cli/main.js `;
      expect(exec?.startsWith(prefix), `${path}: ${exec}`).toBe(true);
      const args = (exec ?? '').slice(prefix.length).split(/\s+/);
      // commander answers `<unknown> --help` with the program's help and exit 0: the usage line tells them apart.
      const { stdout } = await run(process.execPath, [CLI, ...args, '--help'], { cwd: fileURLToPath(ROOT) });
      expect(stdout, path).toContain(`Usage: cases-etl ${args.join(' ')} `);
      commands.push(args.join(' '));
    }
    expect(commands).toEqual(['serve', 'worker']);
  });

  it('systemd waits on stop longer than ETL_SHUTDOWN_TIMEOUT_MS, and the archive is writable', async () => {
    const shutdown = VARIABLES.find((v) => v.name === 'ETL_SHUTDOWN_TIMEOUT_MS');
    const defaultSeconds = Number(shutdown?.default) / 1000;
    expect(defaultSeconds).toBeGreaterThan(0);
    const archive = assignments(await read(ENV_FILE)).find((l) => l.name === 'CASES_ARCHIVE_DIRECTORY')?.value;
    for (const path of UNITS) {
      const unit = await read(path);
      expect(settings(unit, 'KillSignal'), path).toEqual(['SIGTERM']);
      const [stop] = settings(unit, 'TimeoutStopSec');
      expect(stop, `${path} TimeoutStopSec`).toBeDefined();
      // Room beyond the wait itself for closing HTTP, the queue and the database afterwards.
      expect(seconds(stop ?? '0'), `${path} TimeoutStopSec`).toBeGreaterThanOrEqual(defaultSeconds + 10);
      // ProtectSystem=strict makes everything read-only but ReadWritePaths= (and StateDirectory=).
      expect(settings(unit, 'ProtectSystem'), path).toEqual(['strict']);
      const writable = settings(unit, 'ReadWritePaths').flatMap((p) => p.split(/\s+/));
      expect(
        writable.some((dir) => archive?.startsWith(`${dir.replace(/^-/, '')}/`)),
        `${path} writes ${archive}`,
      ).toBe(true);
    }
  });
});
