import type { Command } from 'commander';

import { commandEnvironmentHelp, COMMANDS, environmentHelp, type CommandName } from '../config/index.js';
import type { CliIo } from './context.js';

/**
 * What `--help` says and what a mistyped command gets. The main help is the commands and options
 * only, to fit a screen; the environment variables are in `cases-etl help config` (all of them)
 * and in each command's own help (those it reads, from src/config/schema.ts).
 */

/** The last lines of `cases-etl --help`. */
export const MAIN_HELP_FOOTER = [
  '',
  "Each command's --help lists the environment variables it reads;",
  'cases-etl help config describes all of them.',
].join('\n');

const isCommandName = (path: string): path is CommandName => (COMMANDS as readonly string[]).includes(path);

/** The command at `path` (`['layouts', 'list']`) under `root`, by name or alias; undefined if there is none. */
export function findCommand(root: Command, path: readonly string[]): Command | undefined {
  let cmd: Command | undefined = root;
  for (const word of path) cmd = cmd?.commands.find((c) => c.name() === word || c.aliases().includes(word));
  return cmd;
}

/**
 * `cases-etl help [topic]`: the main help, a command's help (`help layouts list`), or `help config`.
 * It replaces Commander's implicit help command, which knows commands only.
 */
export function registerHelp(program: Command, io: CliIo): void {
  program
    .command('help [topic...]')
    .description("a command's help (help run), or every environment variable (help config)")
    .action(function (this: Command, topic: string[]) {
      if (topic.length === 0) program.help();
      if (topic.join(' ') === 'config') {
        io.out(environmentHelp());
        return;
      }
      const cmd = findCommand(program, topic);
      if (cmd === undefined) this.error(`error: no command or help topic '${topic.join(' ')}'`);
      else cmd.help();
    });
}

/**
 * Settles every command below `program` once they are all registered: its errors end the way
 * runCli expects, a usage mistake points at the command's own help instead of printing all of it,
 * and the help of a command that reads configuration ends with the variables it reads.
 */
export function finishCommands(program: Command, io: CliIo, path: readonly string[] = []): void {
  for (const cmd of program.commands) {
    const here = [...path, cmd.name()];
    const name = here.join(' ');
    cmd
      .exitOverride()
      .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
      .showHelpAfterError(`Run 'cases-etl ${name} --help' for its usage.`);
    const environment = isCommandName(name) ? commandEnvironmentHelp(name) : null;
    if (environment !== null) cmd.addHelpText('after', `\n${environment}`);
    finishCommands(cmd, io, here);
  }
}
