// A night (or a rollback) run in its own process that SIGKILLs itself at a chosen moment, for
// test/faults.test.ts. Plain JavaScript over the built library, so the process starts fast and
// nothing between the harness and the real code (no tsx, no vitest) can catch the signal.
//
// FAULT_OP        run | rollback
// FAULT_SOURCE    the school's export folder (run)
// FAULT_RUN_ID    the run to undo (rollback)
// FAULT_KILL_MS   SIGKILL this many ms after the library is called (unset: never)
// FAULT_KILL_EVENT SIGKILL at this progress event, counted from 0 (unset: never)
// The database and the rest of the configuration come from the environment, as for the CLI.
import { rollbackRun, runEtl } from '../../dist/pipeline/index.js';

const die = () => process.kill(process.pid, 'SIGKILL');
const killMs = process.env.FAULT_KILL_MS;
const killEvent = process.env.FAULT_KILL_EVENT === undefined ? -1 : Number(process.env.FAULT_KILL_EVENT);
let events = 0;
const onEvent = () => {
  if (events++ === killEvent) die();
};

const started = Date.now();
if (killMs !== undefined) setTimeout(die, Number(killMs));
try {
  const outcome =
    process.env.FAULT_OP === 'rollback'
      ? await rollbackRun(Number(process.env.FAULT_RUN_ID), { notifier: null, requestedBy: 'faults', onProgress: onEvent }).then((r) => ({ status: 'rolled_back', runId: r.rollbackId }))
      : await runEtl({ source: process.env.FAULT_SOURCE, allowShrink: true, notifier: null, onProgress: onEvent }).then((r) => ({ status: r.status, runId: r.runId, errors: r.errors }));
  process.stdout.write(`${JSON.stringify({ ...outcome, ms: Date.now() - started })}\n`);
  // The kill timer must not hold the process open once the work is done.
  process.exit(0);
} catch (err) {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}
