// A night (or a rollback) run in its own process that SIGKILLs itself at a chosen moment, for
// test/faults.test.ts. Plain JavaScript over the built library, so the process starts fast and
// nothing between the harness and the real code (no tsx, no vitest) can catch the signal.
//
// The process starts (and imports the library, most of its start-up time) before it is told what
// to do, so the harness can start it while it computes the reference step; then one JSON line on
// stdin says { op: 'run' | 'rollback' | 'none', source, runId } and when to die, one of:
//   killMs         ms after the library is called (a moment anywhere, by the clock)
//   killEvent      at this progress event, from 0 (a file starting or done: reading, merging)
//   killStatement  before this database statement, from 0 (any statement, COMMIT included)
//   killFsCall     before this archive file operation, from 0 (copy, rename, remove: archiving)
// When it finishes, it prints its duration and how many statements and file operations it made,
// so the harness can draw the next moments from the whole of a run.
// The database and the rest of the configuration come from the environment, as for the CLI.
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { createInterface } from 'node:readline';

import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';

const die = () => process.kill(process.pid, 'SIGKILL');
const counts = { statements: 0, fsCalls: 0 };
let task = { op: 'none' };

/** Wraps `owner[name]` so that each call is counted, and the chosen one never happens. */
function countCalls(owner, name, counter, limit) {
  const original = owner[name];
  owner[name] = function (...args) {
    if (counts[counter]++ === task[limit]) die();
    return original.apply(this, args);
  };
}

// Statements on either database; the library's own imports share these module instances.
countCalls(pg.Client.prototype, 'query', 'statements', 'killStatement');
const scratch = new BetterSqlite3(':memory:');
const statement = Object.getPrototypeOf(scratch.prepare('SELECT 1'));
for (const name of ['run', 'get', 'all', 'iterate']) countCalls(statement, name, 'statements', 'killStatement');
countCalls(BetterSqlite3.prototype, 'exec', 'statements', 'killStatement');
scratch.close();
// Archive file operations; syncBuiltinESMExports makes the library's named imports see them.
for (const name of ['copyFile', 'rename', 'rm', 'writeFile', 'mkdir']) countCalls(fsp, name, 'fsCalls', 'killFsCall');
syncBuiltinESMExports();

const { rollbackRun, runEtl } = await import('../../dist/pipeline/index.js');

const input = createInterface({ input: process.stdin });
task = JSON.parse(await new Promise((resolve) => input.once('line', resolve)));
input.close();
// The harness warms one child more than it needs; it is let go with nothing to do.
if (task.op === 'none') process.exit(0);
// Only the work counts: not the imports and the harness's set-up above.
counts.statements = 0;
counts.fsCalls = 0;
let events = 0;
const onEvent = () => {
  if (events++ === task.killEvent) die();
};

const started = Date.now();
if (typeof task.killMs === 'number') setTimeout(die, task.killMs);
try {
  const outcome =
    task.op === 'rollback'
      ? await rollbackRun(task.runId, { notifier: null, requestedBy: 'faults', onProgress: onEvent }).then((r) => ({
          status: 'rolled_back',
          runId: r.rollbackId,
        }))
      : await runEtl({ source: task.source, allowShrink: true, notifier: null, onProgress: onEvent }).then((r) => ({
          status: r.status,
          runId: r.runId,
          errors: r.errors,
        }));
  process.stdout.write(`${JSON.stringify({ ...outcome, ms: Date.now() - started, ...counts })}\n`);
  // The kill timer must not hold the process open once the work is done.
  process.exit(0);
} catch (err) {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}
