#!/usr/bin/env node
import { runCli } from './program.js';

// A reader that goes away (`cases-etl layouts list | head`) closes the pipe: what is left to print is
// dropped, and the command finishes as it would have (a run still publishes, or not, whole),
// rather than dying on the write with a stack trace.
const closed = { out: false, err: false };
process.stdout.on('error', () => (closed.out = true));
process.stderr.on('error', () => (closed.err = true));

await runCli(process.argv.slice(2), {
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
