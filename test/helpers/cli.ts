import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLI (npm test builds first, through pretest). */
export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `cases-etl` as a real child process (behind `wrap`, a command and its arguments, when
 * given, such as setpriv). The environment is cleared of CASES and ETL
 * variables from the caller's shell so only `env` decides, and files settle at once.
 */
export function runCli(
  args: readonly string[],
  env: Record<string, string> = {},
  cwd?: string,
  options: { readonly wrap?: readonly string[] } = {},
): Promise<CliResult> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !/^(CASES_|ETL_|DATABASE_URL|REDIS_)/.test(k)) base[k] = v;
  return new Promise((resolve) => {
    const [command, ...prefix] = [...(options.wrap ?? []), process.execPath];
    execFile(
      command as string,
      [...prefix, CLI, ...args],
      { env: { ...base, ETL_FILE_STABLE_MS: '0', ...env }, cwd, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
