import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { CLI, runCli } from './helpers/cli.js';
import { tempDir } from './helpers/fixtures.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

/** A TCP port nothing listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Until GET /livez answers (serve is listening, and has said so in its logs if its level lets it). */
async function untilLive(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/livez`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`serve did not listen on ${port}`);
}

/** `serve` into a pipe until it listens, then SIGTERM: what it wrote on stderr. */
async function serveLogs(env: Record<string, string>): Promise<string> {
  const port = await freePort();
  const child = spawn(process.execPath, [CLI, 'serve'], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', PORT: String(port), DATABASE_URL: `sqlite:${join(dir, 'logs.db')}`, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  try {
    await untilLive(port);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  return stderr;
}

const levels = (logs: string): number[] =>
  logs
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { level: number }).level);

describe('serve logs', () => {
  it('at info by default, as JSON lines into a pipe; LOG_LEVEL=warn leaves out info, LOG_LEVEL=error warnings too', async () => {
    const info = await serveLogs({});
    expect(info).toMatch(/"level":30,.*"msg":"HTTP listening"/);
    expect(new Set(levels(info))).toEqual(new Set([30, 40]));

    const warn = await serveLogs({ LOG_LEVEL: 'WARN' });
    expect(warn).not.toContain('HTTP listening');
    expect(levels(warn).length).toBeGreaterThan(0);
    expect(levels(warn).every((level) => level >= 40)).toBe(true);

    const error = await serveLogs({ LOG_LEVEL: 'error' });
    expect(error).toBe('');
  });

  it('refuses a LOG_LEVEL that is not a level, naming the ones that are (exit 2)', async () => {
    const r = await runCli(['serve'], { LOG_LEVEL: 'loud' }, dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('LOG_LEVEL="loud" must be one of trace, debug, info, warn, error, fatal, silent');
  });

  // util-linux `script` gives a real pseudo-terminal; .ci/run installs it where it is missing.
  it('on a terminal, one line of text per entry (pino-pretty), no colour with NO_COLOR', async () => {
    const port = await freePort();
    // util-linux script gives serve a pseudo-terminal; timeout ends it once it has had time to listen.
    const command = `timeout -s TERM 8 '${process.execPath}' '${CLI}' serve`;
    const onTerminal = new Promise<string>((resolve, reject) =>
      execFile(
        'script',
        ['-qec', command, '/dev/null'],
        {
          cwd: dir,
          env: {
            PATH: process.env.PATH ?? '',
            TERM: 'xterm-256color',
            NO_COLOR: '1',
            PORT: String(port),
            DATABASE_URL: `sqlite:${join(dir, 'pty.db')}`,
          },
        },
        (err, stdout) => (err && err.code !== 124 ? reject(err) : resolve(stdout)),
      ),
    );
    const shown = await onTerminal;
    expect(shown).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: HTTP listening \{"address":"127\.0\.0\.1:\d+"/m);
    expect(shown).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: no Redis configured/m);
    expect(shown).not.toMatch(/^\{"level"/m);
    expect(shown).not.toContain('\u001b');
  });
});
