#!/usr/bin/env node
import { VERSION } from '../version.js';

// A reader that goes away (`cases-etl layouts list | head`) closes the pipe: what is left to print is
// dropped, and the command finishes as it would have (a run still publishes, or not, whole),
// rather than dying on the write with a stack trace.
const closed = { out: false, err: false };
const VERSION_FLAGS = new Set(['--version', '-v', '-V']);
process.stdout.on('error', () => (closed.out = true));
process.stderr.on('error', () => (closed.err = true));

const argv = process.argv.slice(2);
// `--version` alone is what packaging scripts, health checks and support ask first: answered
// before the command tree, its configuration schema and the database drivers are loaded (they
// cost a start-up three times that of Node itself). Anything else goes through Commander, which
// prints the same line for these flags when they come with other arguments.
if (argv.length === 1 && VERSION_FLAGS.has(argv[0] as string)) {
  process.stdout.write(`${VERSION}\n`);
} else {
  const { runCli } = await import('./program.js');
  await runCli(argv, {
    env: process.env,
    isTTY: Boolean(process.stderr.isTTY),
    outIsTTY: Boolean(process.stdout.isTTY),
    errColumns: process.stderr.isTTY ? process.stderr.columns : 0,
    out: (text) => void (closed.out || process.stdout.write(`${text}\n`)),
    err: (text) => void (closed.err || process.stderr.write(`${text}\n`)),
    errRaw: (text) => void (closed.err || process.stderr.write(text)),
    setExitCode: (code) => {
      process.exitCode = code;
    },
  });
}
