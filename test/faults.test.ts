import { spawn } from 'node:child_process';
import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Config } from '../src/config/index.js';
import { loadLayouts, type LayoutRegistry } from '../src/layouts/index.js';
import { rollbackRun, runEtl } from '../src/pipeline/index.js';
import { createStore, type Store } from '../src/store/index.js';
import { readFaultState, type State } from './helpers/fault-state.js';
import { deltaNightArb, fullNightArb, writeNight, type Night } from './helpers/night-model.js';
import { createTarget, DIALECTS, type Dialect, type Target } from './helpers/targets.js';

/**
 * Kill -9 at random moments (issue 23). For each database, a seeded sequence of generated nights,
 * with now and then a rollback of the latest run, is loaded twice: uninterrupted into a reference
 * database, and into the victim by a child process that SIGKILLs itself at a seeded moment: a
 * number of ms into the work, a progress event, a database statement (COMMIT and what follows
 * included) or an archive file operation — so kills land while reading, merging, committing,
 * pruning change history, archiving and rolling back. After each kill the victim must equal, row
 * by row with bookkeeping and ledger, the reference before that step or after it, and hold no
 * archive folder named like a night without its manifest; then the step is run again and must
 * succeed (a night whose kill came after its commit is skipped) and leave the after-state.
 *
 * FAULT_KILLS kills per database: 40 in `npm test` (CI), 200 in `npm run test:faults`.
 * FAULT_SEED picks other moments and nights; a failure prints the seed and step to replay.
 * FAULT_DEBUG=1 prints each step: reference ms, child ms, check ms, killed, the moment, the child's report.
 */

const KILLS = Number(process.env.FAULT_KILLS ?? 40);
const SEED = Number(process.env.FAULT_SEED ?? 230_023);
const CHILD = fileURLToPath(new URL('./faults/kill-child.mjs', import.meta.url));
const SCHOOL = '8865';
/** Sized for about 1.5–2 s a kill on two cores; room for a slow machine. */
const TIMEOUT_MS = 60_000 + KILLS * 6_000;

/** mulberry32: a small seeded generator, so every moment replays from FAULT_SEED alone. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface ChildExit {
  readonly killed: boolean;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

interface Child {
  /** Tells the started child what to do; resolves when it exits, killed or not. */
  run(task: Record<string, unknown>): Promise<ChildExit>;
}

/** Starts a child now, so its imports overlap the reference step; it waits for its task. */
function startChild(env: Record<string, string>): Child {
  const child = spawn(process.execPath, [CHILD], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<ChildExit>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ killed: signal === 'SIGKILL', code, stdout, stderr }));
  });
  return {
    run(task) {
      child.stdin.end(`${JSON.stringify(task)}\n`);
      return exited;
    },
  };
}

/** What a finished child reported. */
interface Seen {
  readonly ms: number;
  readonly statements: number;
  readonly fsCalls: number;
}

type Moment =
  | { readonly killEvent: number }
  | { readonly killMs: number }
  | { readonly killStatement: number }
  | { readonly killFsCall: number };

/** A step of the sequence: load a night, or roll back the school's latest published run. */
type Step = { readonly op: 'run'; readonly night: Night; readonly index: number } | { readonly op: 'rollback' };

interface Figures {
  kills: number;
  finished: number;
  statesChecked: number;
  atBefore: number;
  atAfter: number;
  /** Kills that came after the commit: archiving, archive pruning, the last bookkeeping. */
  killedAfterCommit: number;
  killedBy: Record<string, number>;
  mismatches: string[];
}

/** Where two states first differ, for the failure message. */
function firstDifference(a: State, b: State): string {
  for (const table of Object.keys({ ...a, ...b })) {
    const x = a[table] ?? [];
    const y = b[table] ?? [];
    if (isDeepStrictEqual(x, y)) continue;
    const i = x.findIndex((row, n) => !isDeepStrictEqual(row, y[n]));
    const at = i === -1 ? x.length : i;
    return `${table}[${at}]: ${JSON.stringify(x[at])} vs ${JSON.stringify(y[at])} (${x.length} vs ${y.length} rows)`;
  }
  return 'no difference';
}

const PUBLISHED = new Set(['succeeded', 'warning']);

describe.each(DIALECTS)('kill -9 at random moments on %s', (dialect: Dialect) => {
  let victim: Target;
  let reference: Target;
  let refConfig: Config;
  let victimConfig: Config;
  let refStore: Store;
  let victimStore: Store;
  let layouts: LayoutRegistry;
  // The export folder both databases load from, so source_dir and checksums agree.
  let source: string;
  const epoch = new Date(Date.now() - 30 * 86_400_000);
  // Guards out of the way (the model empties classes and rejects rows on purpose); change history
  // kept for two runs so pruning happens nearly every night; every published night archived.
  const extra = (target: Target): Record<string, string> => ({
    ETL_REQUIRED_TABLES: 'ST',
    ETL_MAX_SHRINK: '1',
    ETL_MAX_ERROR_RATE: '1',
    ETL_SNAPSHOT_RETENTION: '2',
    CASES_ARCHIVE_DIRECTORY: join(target.dir, 'archive'),
  });

  beforeAll(async () => {
    [victim, reference] = await Promise.all([createTarget(dialect), createTarget(dialect)]);
    source = join(reference.dir, 'export', SCHOOL);
    refConfig = reference.config(extra(reference));
    victimConfig = victim.config(extra(victim));
    refStore = await createStore(refConfig.database, { lockTimeoutMs: refConfig.lockTimeoutMs });
    await refStore.migrate();
    victimStore = await createStore(victimConfig.database, { lockTimeoutMs: victimConfig.lockTimeoutMs });
    layouts = await loadLayouts(refConfig.relationshipsPath, { optional: !refConfig.relationshipsExplicit });
  });
  afterAll(async () => {
    await refStore?.close();
    await victimStore?.close();
    await reference?.cleanup();
    await victim?.cleanup();
  });

  async function stateOf(target: Target): Promise<State> {
    const probe = await target.probe();
    try {
      return await readFaultState(probe, dialect);
    } finally {
      await probe.close();
    }
  }

  async function latestPublished(target: Target): Promise<number> {
    const probe = await target.probe();
    try {
      const rows = await probe.all(`SELECT max(id) AS id FROM etl_runs WHERE status IN ('succeeded', 'warning')`);
      return Number(rows[0]?.id);
    } finally {
      await probe.close();
    }
  }

  /**
   * Archive folders named like a night's that are not whole (no manifest.json). A copy is made
   * under `.partial` and renamed when complete, so a kill mid-copy must never leave one.
   */
  async function incompleteArchives(target: Target): Promise<string[]> {
    const root = join(target.dir, 'archive', SCHOOL);
    const names = await readdir(root).catch(() => []);
    const incomplete: string[] = [];
    for (const name of names.filter((n) => !n.endsWith('.partial'))) {
      if (
        !(await access(join(root, name, 'manifest.json')).then(
          () => true,
          () => false,
        ))
      )
        incomplete.push(name);
    }
    return incomplete;
  }

  /** Runs the step to the end in this process; the status it ended with. */
  async function complete(step: Step, config: Config, store: Store, target: Target): Promise<string> {
    // The killed process may have died before or while it migrated: the next run migrates, as the CLI does.
    await store.migrate();
    if (step.op === 'rollback') {
      await rollbackRun(await latestPublished(target), { config, store, notifier: null, requestedBy: 'faults' });
      return 'rolled_back';
    }
    const result = await runEtl({ config, store, layouts, source, allowShrink: true, notifier: null });
    const errors = result.errors.filter((e) => !e.startsWith('archive failed'));
    if (errors.length > 0 || result.status === 'failed')
      throw new Error(`the night did not load: ${result.status} ${errors.join('; ')}`);
    return result.status;
  }

  it(
    `equals the state before or after the killed run, then succeeds (seed ${SEED}, ${KILLS} kills)`,
    { timeout: TIMEOUT_MS },
    async () => {
      const random = seededRandom(SEED + (dialect === 'sqlite' ? 0 : 1));
      const nights = fc.sample(
        fc.oneof({ arbitrary: fullNightArb, weight: 1 }, { arbitrary: deltaNightArb, weight: 1 }),
        { seed: SEED, numRuns: KILLS * 2 + 10 },
      );
      const figures: Figures = {
        kills: 0,
        finished: 0,
        statesChecked: 0,
        atBefore: 0,
        atAfter: 0,
        killedAfterCommit: 0,
        killedBy: {},
        mismatches: [],
      };
      const started = Date.now();
      let before = await stateOf(reference);
      let lastWasPublishedLoad = false;
      let nightIndex = 0;
      // What an uninterrupted child of each operation did last: the range kill moments are drawn from.
      const seen: Record<Step['op'], Seen> = {
        run: { ms: 0, statements: 60, fsCalls: 20 },
        rollback: { ms: 0, statements: 30, fsCalls: 0 },
      };
      /**
       * When the child dies: at a progress event (a file started or done: reading and merging), by
       * the clock over the child's own duration (a cold process opening the store is slower than
       * the warm reference), before its nth database statement (COMMIT and what follows included)
       * or before its nth archive file operation (copying, renaming, pruning archives).
       */
      const chooseMoment = (op: Step['op'], refMs: number): Moment => {
        const r = random();
        const within = (n: number): number => Math.floor(random() * n);
        if (op === 'run' && r < 0.2) return { killEvent: within(4) };
        if (r < 0.45) return { killMs: within((seen[op].ms || refMs * 1.5) * 1.2) };
        if (op === 'rollback' || r < 0.85) return { killStatement: within(seen[op].statements + 2) };
        return { killFsCall: within(seen[op].fsCalls + 1) };
      };
      let warming: Child | null = null;

      for (let stepNo = 0; figures.kills < KILLS && stepNo < KILLS * 3; stepNo++) {
        // A rollback now and then, of a run whose change history is surely still kept.
        const step: Step =
          lastWasPublishedLoad && random() < 0.2
            ? { op: 'rollback' }
            : { op: 'run', night: nights[nightIndex] as Night, index: nightIndex++ };
        if (step.op === 'run') await writeNight(source, SCHOOL, step.night, step.index, epoch);

        const child = warming ?? startChild({ ...victim.env, ...extra(victim) });
        const t0 = Date.now();
        const refStatus = await complete(step, refConfig, refStore, reference);
        const refMs = Date.now() - t0;
        const after = await stateOf(reference);
        lastWasPublishedLoad = step.op === 'run' && PUBLISHED.has(refStatus);

        const moment = chooseMoment(step.op, refMs);
        const task = {
          op: step.op,
          source,
          ...(step.op === 'rollback' ? { runId: await latestPublished(victim) } : {}),
          ...moment,
        };
        const exit = await child.run(task);
        // The next step's child imports while this one is checked and retried.
        warming = startChild({ ...victim.env, ...extra(victim) });
        if (!exit.killed && exit.code === 0) seen[step.op] = JSON.parse(exit.stdout) as Seen;
        // Kills by the clock only ever show a run longer than the moment: stretch until one finishes.
        else if ('killMs' in moment)
          seen[step.op] = { ...seen[step.op], ms: Math.max(seen[step.op].ms, moment.killMs * 1.1) };
        const where = `seed ${SEED}, step ${stepNo} (${step.op}${step.op === 'run' ? ` night ${step.index}` : ''}, ${JSON.stringify(moment)})`;
        if (!exit.killed && exit.code !== 0)
          throw new Error(`${where}: the child failed without being killed: ${exit.stderr}`);
        if (exit.killed) figures.kills += 1;
        else figures.finished += 1;

        const tKill = Date.now();
        for (const folder of await incompleteArchives(victim))
          figures.mismatches.push(`${where}: archive folder ${folder} has no manifest but a night's name`);
        const found = await stateOf(victim);
        figures.statesChecked += 1;
        const atBefore = isDeepStrictEqual(found, before);
        const atAfter = !atBefore && isDeepStrictEqual(found, after);
        if (atBefore) figures.atBefore += 1;
        if (atAfter) figures.atAfter += 1;
        if (exit.killed)
          figures.killedBy[Object.keys(moment)[0] as string] =
            (figures.killedBy[Object.keys(moment)[0] as string] ?? 0) + 1;
        if (exit.killed && atAfter) figures.killedAfterCommit += 1;
        if (!atBefore && !atAfter) {
          figures.mismatches.push(
            `${where}: neither before (${firstDifference(found, before)}) nor after (${firstDifference(found, after)})`,
          );
        }
        if (!exit.killed && !atAfter && !isDeepStrictEqual(before, after)) {
          figures.mismatches.push(`${where}: finished without a kill but not at the after-state`);
        }

        // The next run: a killed night is loaded again (or skipped, when the kill came after its
        // commit); a rollback is done again unless it had committed.
        if (!(step.op === 'rollback' && atAfter) && !(exit.killed === false)) {
          await complete(step, victimConfig, victimStore, victim);
          const recovered = await stateOf(victim);
          figures.statesChecked += 1;
          if (!isDeepStrictEqual(recovered, after))
            figures.mismatches.push(`${where}: after the retry, ${firstDifference(recovered, after)}`);
        }
        if (process.env.FAULT_DEBUG)
          console.log(
            stepNo,
            refMs,
            tKill - t0,
            Date.now() - tKill,
            exit.killed,
            JSON.stringify(moment),
            exit.stdout.trim(),
          );
        if (figures.mismatches.length > 0) break;
        before = after;
      }

      // The last warmed child is never given a task: closing its stdin ends it.
      await warming?.run({ op: 'none' });
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      console.log(
        `faults on ${dialect}: kills ${figures.kills}, finished before the kill ${figures.finished}, states checked ${figures.statesChecked} ` +
          `(at before ${figures.atBefore}, at after ${figures.atAfter}), killed after the commit ${figures.killedAfterCommit}, ` +
          `killed by ${JSON.stringify(figures.killedBy)}, mismatches: ${figures.mismatches.length}, ${seconds} s`,
      );
      expect(figures.mismatches).toEqual([]);
      expect(figures.kills).toBeGreaterThanOrEqual(KILLS);
    },
  );
});
