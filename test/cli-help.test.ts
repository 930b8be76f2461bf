import { tmpdir } from 'node:os';

import { describe, expect, it } from 'vitest';

import { findCommand } from '../src/cli/help.js';
import { createProgram } from '../src/cli/program.js';
import { COMMANDS, VARIABLES, type CommandName } from '../src/config/index.js';
import { VERSION } from '../src/version.js';
import { runCli } from './helpers/cli.js';
import { memoryIo } from './helpers/io.js';

const cli = (args: readonly string[], env: Record<string, string> = {}) => runCli(args, env, tmpdir());

/** The variable names listed in a help text's `Environment` part, in order. */
function listedVariables(help: string): string[] {
  const at = help.indexOf('\nEnvironment');
  if (at < 0) return [];
  return help
    .slice(at + 1)
    .split('\n')
    .slice(1)
    .map((line) => /^ {2}([A-Z][A-Z0-9_]+)\s/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
}

describe('cases-etl --help', () => {
  it('fits a screen: commands and options, no environment variables, and where to find them', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.length).toBeLessThanOrEqual(40);
    for (const command of ['run', 'validate', 'serve', 'rollback', 'help'])
      expect(r.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    expect(r.stdout).toMatch(/^ {2}-v, --version\s+print the version$/m);
    // No variable listed (a description may still name one, as worker's does HOST:PORT).
    for (const v of VARIABLES) expect(r.stdout, v.name).not.toMatch(new RegExp(`^\\s+${v.name}\\s`, 'm'));
    expect(r.stdout).not.toContain('Environment');
    expect(r.stdout).toContain('cases-etl help config');
  });

  it('help config prints every variable with its default, under its group', async () => {
    const r = await cli(['help', 'config']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Source and layouts:$/m);
    expect(r.stdout).toMatch(/^Logs:$/m);
    for (const v of VARIABLES) {
      const line = r.stdout.split('\n').find((l) => l.startsWith(`  ${v.name} `));
      expect(line, v.name).toBeDefined();
      expect(line, v.name).toContain(`(default ${v.default.replace(/`/g, '')})`);
    }
  });

  it("help COMMAND is the command's own --help, nested commands included", async () => {
    const [viaHelp, viaFlag] = await Promise.all([
      cli(['help', 'layouts', 'list']),
      cli(['layouts', 'list', '--help']),
    ]);
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toContain('Usage: cases-etl layouts list');
    expect(viaHelp.stdout).toBe(viaFlag.stdout);
  });

  it('-v and -V both print the version', async () => {
    for (const flag of ['-v', '-V', '--version']) {
      const r = await cli([flag]);
      expect(r.code, flag).toBe(0);
      expect(r.stdout, flag).toBe(`${VERSION}\n`);
    }
  });
});

describe('a mistyped command or option', () => {
  it("gets Commander's suggestion and a pointer to --help, not the whole help, and exits 2", async () => {
    const r = await cli(['vaildate']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      "error: unknown command 'vaildate'",
      '(Did you mean validate?)',
      "Run 'cases-etl --help' for the commands and options.",
    ]);
  });

  it("points at the command's own help for its options, and at the main help for an unknown help topic", async () => {
    const option = await cli(['validate', '--bogus']);
    expect(option.code).toBe(2);
    expect(option.stderr.trimEnd().split('\n')).toEqual([
      "error: unknown option '--bogus'",
      "Run 'cases-etl validate --help' for its usage.",
    ]);
    const nested = await cli(['layouts', 'lst']);
    expect(nested.code).toBe(2);
    expect(nested.stderr).toContain('(Did you mean list?)');
    expect(nested.stderr).not.toContain('Commands:');
    const topic = await cli(['help', 'nonsense']);
    expect(topic.code).toBe(2);
    expect(topic.stderr).toContain("no command or help topic 'nonsense'");
    expect(topic.stderr).toContain("Run 'cases-etl --help'");
  });
});

describe("each command's --help", () => {
  it('names a command that exists for every command a variable can be read by', () => {
    const program = createProgram(memoryIo().io);
    for (const name of COMMANDS) expect(findCommand(program, name.split(' ')), name).toBeDefined();
  });

  it.each<CommandName>(['serve', 'worker', 'run', 'validate', 'layouts list', 'rollback'])(
    '`%s --help` lists exactly the variables src/config/schema.ts says it reads',
    async (command) => {
      const r = await cli([...command.split(' '), '--help']);
      expect(r.code).toBe(0);
      const expected = VARIABLES.filter((v) => v.commands.includes(command)).map((v) => v.name);
      expect(expected.length).toBeGreaterThan(0);
      expect(listedVariables(r.stdout)).toEqual(expected);
    },
  );

  it('serve names its HTTP, Redis and token variables; run names the folder and database, not the HTTP port', async () => {
    const [serve, run] = await Promise.all([cli(['serve', '--help']), cli(['run', '--help'])]);
    const served = listedVariables(serve.stdout);
    for (const name of ['PORT', 'HOST', 'REDIS_URL', 'ETL_ADMIN_TOKENS', 'LOG_LEVEL']) expect(served).toContain(name);
    const ran = listedVariables(run.stdout);
    for (const name of ['CASES_DIRECTORY', 'DATABASE_URL', 'ETL_MAX_ERROR_RATE']) expect(ran).toContain(name);
    for (const name of ['PORT', 'ETL_ADMIN_TOKENS', 'LOG_LEVEL']) expect(ran).not.toContain(name);
  });

  it('a command that reads no configuration lists none', async () => {
    const r = await cli(['generate', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('Environment');
  });
});
