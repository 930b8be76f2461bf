import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';

import { describe, expect, it } from 'vitest';

import { CLI } from './helpers/cli.js';

/**
 * `cases-etl layouts list | head`: the reader goes away before the command has printed everything.
 * The rest of the output is dropped and the command ends as it would have, without a stack trace.
 */
describe('a closed output pipe', () => {
  it.each([['layouts list'], ['--help']])('ends `%s` quietly with its own exit code', async (command) => {
    const child = spawn(process.execPath, [CLI, ...command.split(' ')], {
      cwd: tmpdir(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Closed before the first byte is read: every write the command makes meets a closed pipe.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(stderr).not.toMatch(/EPIPE|^\s+at /m);
    expect(code).toBe(0);
  });
});
