import { execFile } from 'node:child_process';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { colourEnabled, formatTable, makePalette } from '../src/cli/format.js';
import { runCli as runInProcess } from '../src/cli/program.js';
import { CLI, runCli } from './helpers/cli.js';
import { fixture, tempDir } from './helpers/fixtures.js';
import { memoryIo } from './helpers/io.js';

// eslint-disable-next-line no-control-regex
const ESCAPE = /\u001b\[/;
// eslint-disable-next-line no-control-regex
const unpaint = (text: string): string => text.replace(/\u001b\[[0-9;]*m/g, '');
const GREEN = (text: string): string => `\u001b[32m${text}\u001b[39m`;
const AMBER = (text: string): string => `\u001b[33m${text}\u001b[39m`;
const RED = (text: string): string => `\u001b[31m${text}\u001b[39m`;

let dir: string;
let cleanup: () => Promise<void>;
let src: string;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  src = join(dir, 'export');
  await cp(fixture('..', '..', 'examples', '8865'), src, { recursive: true });
});
afterEach(() => cleanup());

/** Runs the CLI in this process with stdout a terminal or not. */
async function inProcess(args: readonly string[], outIsTTY: boolean, env: Record<string, string> = {}) {
  const m = memoryIo({ outIsTTY, env: { ETL_FILE_STABLE_MS: '0', ...env } });
  await runInProcess(args, m.io);
  return m.out.join('\n');
}

describe('status colours', () => {
  it('are on for a terminal only, and off whenever NO_COLOR has a value or the terminal is dumb', () => {
    expect(colourEnabled(true, {})).toBe(true);
    expect(colourEnabled(false, {})).toBe(false);
    expect(colourEnabled(true, { NO_COLOR: '1' })).toBe(false);
    expect(colourEnabled(true, { NO_COLOR: 'false' })).toBe(false);
    // no-color.org: an empty NO_COLOR is as if it were not set.
    expect(colourEnabled(true, { NO_COLOR: '' })).toBe(true);
    expect(colourEnabled(true, { TERM: 'dumb' })).toBe(false);
  });

  it('paint green succeeded and ok, amber warning and skipped, red failed; other words stay plain', () => {
    const p = makePalette(true);
    expect(p.status('succeeded')).toBe(GREEN('succeeded'));
    expect(p.status('ok')).toBe(GREEN('ok'));
    expect(p.status('warning')).toBe(AMBER('warning'));
    expect(p.status('skipped (dry)')).toBe(AMBER('skipped (dry)'));
    expect(p.status('failed')).toBe(RED('failed'));
    expect(p.status('running')).toBe('running');
    expect(makePalette(false).status('failed')).toBe('failed');
  });

  it('leave a table aligned: its columns are as wide as without colour', () => {
    const rows = [
      ['ST_8865.csv', 'ok'],
      ['SF_8865.csv', 'unreadable'],
    ];
    const plain = formatTable(
      ['FILE', 'STATUS', '>ROWS'],
      rows.map((r) => [...r, '1']),
    );
    const painted = formatTable(
      ['FILE', 'STATUS', '>ROWS'],
      rows.map((r) => [...r, '1']),
      '  ',
      { 1: makePalette(true).status },
    );
    expect(painted).toContain(GREEN('ok'));
    expect(unpaint(painted)).toBe(plain);
  });

  it('show in validate, run and runs on a terminal; NO_COLOR and a non-terminal print the same text plain', async () => {
    const env = { DATABASE_URL: `sqlite:${join(dir, 'colour.db')}` };
    const validated = await inProcess(['validate', '--source', src], true);
    expect(unpaint(validated)).toMatch(/ST_8865\.csv\s+ST\s+full\s+csv\s+200\s+0\s+ok$/m);
    expect(
      validated
        .split('\n')
        .find((l) => l.includes('ST_8865.csv'))
        ?.endsWith(GREEN('ok')),
    ).toBe(true);
    expect(await inProcess(['validate', '--source', src], true, { NO_COLOR: '1' })).toBe(unpaint(validated));
    expect(await inProcess(['validate', '--source', src], false)).toBe(unpaint(validated));

    const ran = await inProcess(['run', '--source', src], true, env);
    expect(ran).toContain(`School 8865: run 1 ${GREEN('succeeded')}`);
    const again = await inProcess(['run', '--source', src], true, env);
    expect(again).toContain(`School 8865: run 2 ${AMBER('skipped')}`);
    const runs = await inProcess(['runs'], true, env);
    expect(runs).toContain(AMBER('skipped'));
    expect(runs).toContain(GREEN('succeeded'));
    expect(await inProcess(['runs'], true, { ...env, NO_COLOR: '1' })).toBe(unpaint(runs));
  });
});

describe('the built CLI', () => {
  it('writes no escape code into a pipe, even asked to force colour', async () => {
    const env = { DATABASE_URL: `sqlite:${join(dir, 'pipe.db')}`, FORCE_COLOR: '1', TERM: 'xterm-256color' };
    for (const args of [['validate', '--source', src], ['run', '--source', src, '--progress'], ['runs']]) {
      const r = await runCli(args, env, dir);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout, args.join(' ')).not.toMatch(ESCAPE);
      expect(r.stderr, args.join(' ')).not.toMatch(ESCAPE);
    }
  });

  /** `validate` on a pseudo-terminal (util-linux script), stdout and stderr as the terminal shows them. */
  const onTerminal = (env: Record<string, string>): Promise<string> =>
    new Promise((resolve, reject) => {
      const command = `'${process.execPath}' '${CLI}' validate --source '${src}'`;
      execFile(
        'script',
        ['-qec', command, '/dev/null'],
        { cwd: dir, env: { ...process.env, TERM: 'xterm-256color', ETL_FILE_STABLE_MS: '0', ...env } },
        (err, stdout) => (err ? reject(err) : resolve(stdout)),
      );
    });

  // util-linux `script` gives a real pseudo-terminal; .ci/run installs it where it is missing.
  it('colours statuses on a pseudo-terminal, and writes no escape code there with NO_COLOR', async () => {
    const coloured = await onTerminal({});
    expect(coloured).toContain(GREEN('ok'));
    const plain = await onTerminal({ NO_COLOR: '1' });
    expect(plain).toMatch(/ST_8865\.csv\s+ST\s+full\s+csv\s+200\s+0\s+ok/);
    expect(plain).not.toMatch(ESCAPE);
  });
});
