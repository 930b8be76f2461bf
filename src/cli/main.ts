#!/usr/bin/env node
import { runCli } from './program.js';

await runCli(process.argv.slice(2), {
  env: process.env,
  isTTY: Boolean(process.stderr.isTTY),
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  setExitCode: (code) => {
    process.exitCode = code;
  },
});
