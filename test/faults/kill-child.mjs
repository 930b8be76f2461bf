// A night (or a rollback) run in its own process that SIGKILLs itself at a chosen moment, for
// test/faults.test.ts. Plain JavaScript over the built library, so the process starts fast and
// nothing between the harness and the real code (no tsx, no vitest) can catch the signal.
//
// The process starts (and imports the library, most of its start-up time) before it is told what
// to do, so the harness can start it while it computes the reference step; then one JSON line on
// stdin says: { op: 'run' | 'rollback', source, runId, killMs?, killEvent? } — SIGKILL killMs ms
// after the library is called, or at progress event killEvent (counted from 0).
// The database and the rest of the configuration come from the environment, as for the CLI.
import { createInterface } from 'node:readline';

import { rollbackRun, runEtl } from '../../dist/pipeline/index.js';

const die = () => process.kill(process.pid, 'SIGKILL');
const input = createInterface({ input: process.stdin });
const task = JSON.parse(await new Promise((resolve) => input.once('line', resolve)));
input.close();
// The harness warms one child more than it needs; it is let go with nothing to do.
if (task.op === 'none') process.exit(0);
let events = 0;
const onEvent = () => {
  if (events++ === task.killEvent) die();
};

const started = Date.now();
if (typeof task.killMs === 'number') setTimeout(die, task.killMs);
try {
  const outcome =
    task.op === 'rollback'
      ? await rollbackRun(task.runId, { notifier: null, requestedBy: 'faults', onProgress: onEvent }).then((r) => ({ status: 'rolled_back', runId: r.rollbackId }))
      : await runEtl({ source: task.source, allowShrink: true, notifier: null, onProgress: onEvent }).then((r) => ({ status: r.status, runId: r.runId, errors: r.errors }));
  process.stdout.write(`${JSON.stringify({ ...outcome, ms: Date.now() - started })}\n`);
  // The kill timer must not hold the process open once the work is done.
  process.exit(0);
} catch (err) {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}
