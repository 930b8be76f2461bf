import { spawn } from 'node:child_process';
import { readdir, utimes } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { generateSchool } from '../src/generate/index.js';
import { rollbackRun, runEtl, type EtlResult } from '../src/pipeline/index.js';
import { CLI, runCli } from './helpers/cli.js';
import { copySample, editCsv } from './helpers/nights.js';
import { createTarget, DIALECTS, type Probe, type Target } from './helpers/targets.js';

const TABLES = ['cases_st', 'cases_sf', 'cases_df', 'cases_stma', 'cases_um'];

/** Every row of the main mirror tables, inactive ones and bookkeeping included. */
async function mirrorState(probe: Probe): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const t of TABLES) out[t] = await probe.all(`SELECT * FROM ${t} ORDER BY 1, 2`);
  return out;
}

async function settle(dir: string): Promise<void> {
  const t = new Date(Date.now() - 60_000);
  for (const name of await readdir(dir)) await utimes(join(dir, name), t, t);
}

describe.each(DIALECTS)('rollback on %s', (dialect) => {
  let target: Target;
  let src: string;
  let probe: Probe | undefined;

  beforeEach(async () => {
    target = await createTarget(dialect);
    src = join(target.dir, 'export');
    await copySample(src);
  });
  afterEach(async () => {
    await probe?.close();
    probe = undefined;
    await target.cleanup();
  });

  const config = (extra: Record<string, string> = {}) => target.config({ CASES_DIRECTORY: src, ...extra });
  const run = (extra: Record<string, string> = {}): Promise<EtlResult> => runEtl({ config: config(extra) });
  const state = async (): Promise<Record<string, unknown>> => {
    probe ??= await target.probe();
    return mirrorState(probe);
  };
  /** A night that changes some surnames, drops some students and adds one. */
  const nextNight = (tag: string) =>
    editCsv(join(src, 'ST_8865.csv'), (rows, col) => {
      const changed = rows
        .slice(3)
        .map((r, i) => (i % 10 === 0 ? Object.assign([...r], { [col('SURNAME')]: `${r[col('SURNAME')]}-${tag}` }) : r));
      const added = Object.assign([...(rows[5] as string[])], {
        [col('STKEY')]: `NEW${tag}`,
        [col('REGISTRATION')]: String(800000 + tag.charCodeAt(0)),
      });
      return [...changed, added];
    });

  it('undoes the latest run exactly, records who, why and how many, and does not reload the undone files unless forced', async () => {
    const night1 = await run();
    const afterNight1 = await state();
    await nextNight('A');
    const night2 = await run();
    expect(night2.stats).toMatchObject({ inserted: 1, deactivated: 3 });
    expect(night2.stats.updated).toBeGreaterThan(0);

    const dry = await rollbackRun(night2.runId as number, { config: config(), dryRun: true });
    expect(await state()).not.toEqual(afterNight1);
    const result = await rollbackRun(night2.runId as number, {
      config: config(),
      requestedBy: 'test:alice',
      reason: 'the export was half written',
    });
    expect(result.runs).toEqual(dry.runs);
    expect(result.runs[0]?.tables).toEqual([{ table: 'ST', deleted: 1, restored: 3 + night2.stats.updated }]);
    expect(result).toMatchObject({ rowsDeleted: 1, rowsRestored: 3 + night2.stats.updated, dryRun: false });
    expect(await state()).toEqual(afterNight1);

    const p = probe as Probe;
    expect(await p.all(`SELECT id, status, rollback_id FROM etl_runs ORDER BY id`)).toEqual([
      { id: night1.runId, status: 'succeeded', rollback_id: null },
      { id: night2.runId, status: 'rolled_back', rollback_id: result.rollbackId },
    ]);
    const ledger = (
      await p.all(`SELECT target_run_id, requested_by, reason, rows_deleted, rows_restored FROM etl_rollbacks`)
    )[0];
    expect(ledger).toEqual({
      target_run_id: night2.runId,
      requested_by: 'test:alice',
      reason: 'the export was half written',
      rows_deleted: 1,
      rows_restored: result.rowsRestored,
    });

    // The undone files are still in the folder: the next run must not quietly publish them again.
    const again = await run();
    expect(again.status).toBe('skipped');
    expect(again.runs[0]?.reason).toBe(
      `this file set was published by run ${night2.runId} and rolled back (rollback ${result.rollbackId}); --force loads it again`,
    );
    const forced = await runEtl({ config: config(), force: true });
    expect(forced.status).toBe('succeeded');
    expect(forced.stats).toMatchObject({ inserted: 1, deactivated: 3, updated: night2.stats.updated });
  });

  it('refuses an older run without --cascade, naming the runs in the way, and undoes them newest first with it', async () => {
    await run();
    const afterNight1 = await state();
    await nextNight('A');
    const night2 = await run();
    await nextNight('B');
    const night3 = await run();
    await expect(rollbackRun(night2.runId as number, { config: config() })).rejects.toMatchObject({
      code: 'ETL_ROLLBACK_BLOCKED',
      message: expect.stringContaining(`run ${night3.runId} came after it`),
    });
    const cascaded = await rollbackRun(night2.runId as number, { config: config(), cascade: true });
    expect(cascaded.runs.map((r) => r.runId)).toEqual([night3.runId, night2.runId]);
    expect(await state()).toEqual(afterNight1);
  });

  it('refuses unknown, failed, skipped, dry-run and already rolled-back runs', async () => {
    const night1 = await run();
    const skipped = await run();
    const dry = await runEtl({ config: config(), dryRun: true, force: true });
    await editCsv(join(src, 'ST_8865.csv'), (rows, col) =>
      rows.map((r) => Object.assign([...r], { [col('BIRTHDATE')]: 'never' })),
    );
    const failed = await run();
    expect([skipped.status, failed.status]).toEqual(['skipped', 'failed']);
    await expect(rollbackRun(9999, { config: config() })).rejects.toMatchObject({ code: 'ETL_RUN_UNKNOWN' });
    for (const id of [skipped.runId, dry.runId, failed.runId]) {
      await expect(rollbackRun(id as number, { config: config() })).rejects.toMatchObject({
        code: 'ETL_ROLLBACK_NOT_PUBLISHED',
      });
    }
    await rollbackRun(night1.runId as number, { config: config() });
    await expect(rollbackRun(night1.runId as number, { config: config() })).rejects.toMatchObject({
      code: 'ETL_ROLLBACK_ALREADY',
    });
  });

  it('keeps change history for ETL_SNAPSHOT_RETENTION published runs and refuses a pruned one', async () => {
    const retention = { ETL_SNAPSHOT_RETENTION: '2' };
    const night1 = await run(retention);
    await nextNight('A');
    await run(retention);
    const afterNight2 = await state();
    await nextNight('B');
    const night3 = await run(retention);
    const p = probe as Probe;
    expect(await p.all(`SELECT DISTINCT run_id FROM etl_changes ORDER BY run_id`)).toEqual([
      { run_id: Number(night1.runId) + 1 },
      { run_id: night3.runId },
    ]);
    await expect(
      rollbackRun(night1.runId as number, { config: config(retention), cascade: true }),
    ).rejects.toMatchObject({
      code: 'ETL_ROLLBACK_PRUNED',
      message: expect.stringContaining(`the change history of run ${night1.runId} was pruned`),
    });
    // Nothing was undone by the refused cascade; the latest run still rolls back.
    await rollbackRun(night3.runId as number, { config: config(retention) });
    expect(await state()).toEqual(afterNight2);
  });

  it('prints per-table counts and refusals from the CLI', async () => {
    const night1 = await run();
    await nextNight('A');
    const night2 = await run();
    const refused = await runCli(['rollback', String(night1.runId)], target.env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('ETL_ROLLBACK_BLOCKED');
    const dry = await runCli(['rollback', String(night1.runId), '--cascade', '--dry-run'], target.env);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(
      `Rolling back run ${night1.runId} of school 8865 would undo 2 runs (dry run: nothing changed):`,
    );
    expect(dry.stdout).toMatch(/ST\s+200\s+0/);
    const real = await runCli(['rollback', String(night2.runId), '--reason', 'test'], target.env);
    expect(real.code).toBe(0);
    expect(real.stdout).toMatch(
      new RegExp(`Rolled back run ${night2.runId} of school 8865 \\(rollback \\d+\\): 1 run undone`),
    );
    expect((await runCli(['rollback', 'abc'], target.env)).code).toBe(2);
    expect((await runCli(['rollback', '424242'], target.env)).code).toBe(2);
  });

  it('leaves the state from before the rollback when the process is killed during it', async () => {
    const big = join(target.dir, 'big');
    await generateSchool({ outDir: big, students: 1500, seed: 5 });
    await settle(big);
    const bigConfig = target.config({ CASES_DIRECTORY: big });
    const night1 = await runEtl({ config: bigConfig });
    for (const tag of ['X', 'Y']) {
      await editCsv(join(big, 'ST_8865.csv'), (rows, col) =>
        rows.map((r) => Object.assign([...r], { [col('SURNAME')]: `${r[col('SURNAME')]}${tag}` })),
      );
      await editCsv(join(big, 'STMA_8865.csv'), (rows, col) =>
        rows.map((r) => Object.assign([...r], { [col('GRADE01')]: tag })),
      );
      await settle(big);
      expect((await runEtl({ config: bigConfig })).status).toBe('succeeded');
    }
    const before = await state();
    const stderr = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, 'rollback', String(night1.runId), '--cascade', '--progress'], {
        env: { ...process.env, ...target.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let err = '';
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        if (/^\[2\/3\] undoing run/m.test(err)) child.kill('SIGKILL');
      });
      child.on('error', reject);
      child.on('exit', (_code, signal) => resolve(`${err}\nsignal=${signal}`));
    });
    expect(stderr).toContain('signal=SIGKILL');
    expect(await state()).toEqual(before);
    const p = probe as Probe;
    expect(await p.all(`SELECT status FROM etl_runs ORDER BY id`)).toEqual([
      { status: 'succeeded' },
      { status: 'succeeded' },
      { status: 'succeeded' },
    ]);
    expect(await p.all(`SELECT id FROM etl_rollbacks`)).toEqual([]);
  });
});
