import { Command, CommanderError, Option } from 'commander';

import { behaviourOf, describeFailure, ERROR_CATALOGUE, isEtlError } from '../errors/index.js';
import { storeFailureKind } from '../store/index.js';
import { registerGenerate } from './commands/generate.js';
import { registerHistory } from './commands/history.js';
import { registerJobs } from './commands/jobs.js';
import { registerLayouts } from './commands/layouts.js';
import { registerMigrate } from './commands/migrate.js';
import { registerNotify } from './commands/notify.js';
import { registerRollback } from './commands/rollback.js';
import { registerRun } from './commands/run.js';
import { registerRuns } from './commands/runs.js';
import { registerValidate } from './commands/validate.js';
import { VERSION } from '../version.js';
import type { CliIo } from './context.js';
import { finishCommands, MAIN_HELP_FOOTER, registerHelp } from './help.js';

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Builds the `cases-etl` command tree writing to `io`. */
export function createProgram(io: CliIo): Command {
  const program = new Command('cases-etl')
    .description('Load CASES21 nightly exports (eduHub CSV, fixed-width .DAT) into a trustworthy database')
    .version(VERSION, '-v, --version', 'print the version')
    // A mistake gets Commander's "did you mean" and a pointer, not the whole help (see finishCommands).
    .showHelpAfterError("Run 'cases-etl --help' for the commands and options.")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    .addHelpText('after', MAIN_HELP_FOOTER);
  // -V, Commander's own spelling (and this CLI's before -v), still prints the version.
  program.addOption(new Option('-V').hideHelp()).on('option:V', () => {
    io.out(VERSION);
    throw new CommanderError(0, 'commander.version', VERSION);
  });
  registerRun(program, io);
  registerRuns(program, io);
  registerRollback(program, io);
  registerHistory(program, io);
  registerJobs(program, io);
  registerMigrate(program, io);
  registerValidate(program, io);
  registerLayouts(program, io);
  registerGenerate(program, io);
  registerNotify(program, io);
  finishCommands(program, io);
  // After finishCommands: `help` keeps the program's settings, so a wrong topic points at the main help.
  registerHelp(program, io);
  return program;
}

/**
 * Runs the CLI with `argv` (without node and script), mapping failures to exit codes:
 * 0 ok, 1 run failed or a required file unreadable, 2 bad usage or configuration.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<void> {
  const program = createProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      io.setExitCode(err.exitCode === 0 ? EXIT.ok : EXIT.usage);
      return;
    }
    if (isEtlError(err)) {
      io.err(`error ${err.code}: ${err.message}`);
      io.err(`  fix: ${err.fix}`);
      io.setExitCode(behaviourOf(err.code).exit);
      return;
    }
    // Anything else still gets a code and a fix line, never a stack trace: the database or the
    // file system by name, or ETL_INTERNAL with its message.
    const failure = describeFailure(err, storeFailureKind);
    io.err(`error ${failure.code}: ${failure.reason}`);
    io.err(`  fix: ${ERROR_CATALOGUE[failure.code].fix}`);
    io.setExitCode(behaviourOf(failure.code).exit);
  }
}
