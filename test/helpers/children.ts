import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

import { CLI } from './cli.js';
import { eventually } from './jobs.js';

/**
 * Long-running `cases-etl` commands (`worker`, `serve`) as real child processes, and the closed
 * ports and Redis servers the tests around them need. The environment is cleared of CASES, ETL,
 * DATABASE and REDIS variables from the caller's shell, as runCli does, so only `env` decides.
 */

export interface CliChild {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Everything written to stderr so far: the JSON log. */
  log(): string;
  /** Where its HTTP listens (`host:port`), once it has said so. */
  address(timeoutMs?: number): Promise<string>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `cases-etl <args>` with `env`, its stderr kept for the test to read. */
export function startCli(args: readonly string[], env: Record<string, string>): CliChild {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !/^(CASES_|ETL_|DATABASE_|REDIS_|PORT$|HOST$)/.test(k)) base[k] = v;
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...base, ETL_FILE_STABLE_MS: '0', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return {
    child,
    pid: child.pid as number,
    exited,
    log: () => log,
    address: (timeoutMs = 20_000) =>
      eventually(async () => /"address":"([^"]+)"/.exec(log)?.[1], timeoutMs, `${args.join(' ')} to listen`),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** A loopback port nothing listens on: taken from the system, then let go. */
export function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A throwaway redis-server on a loopback port, keeping nothing on disk; `extra` arguments after. */
export function startRedisServer(port: number, extra: readonly string[] = []): { readonly url: string; stop(): void } {
  const server = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extra],
    { stdio: 'ignore' },
  );
  return { url: `redis://127.0.0.1:${port}`, stop: () => void server.kill('SIGKILL') };
}

/** No line of a stack trace: what a user sees is the coded error, its message and its fix. */
export function hasStackTrace(text: string): boolean {
  return text.split('\n').some((line) => line.trimStart().startsWith('at ') || line.includes('node_modules/'));
}
