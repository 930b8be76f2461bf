import { spawn } from 'node:child_process';
import { readdir, utimes } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { generateSchool } from '../src/generate/index.js';
import { runEtl } from '../src/pipeline/index.js';
import { CLI } from './helpers/cli.js';
import { editCsv } from './helpers/nights.js';
import { createTarget, DIALECTS, type Probe, type Target } from './helpers/targets.js';

const MIRRORS = ['cases_df', 'cases_sf', 'cases_st', 'cases_stma', 'cases_sxab', 'cases_um'];

/** Everything a run could have touched, in a comparable form. */
async function snapshot(probe: Probe): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const t of MIRRORS) out[t] = await probe.all(`SELECT * FROM ${t} ORDER BY 1, 2`);
  out.changes = await probe.all(`SELECT id, run_id, op, row_key FROM etl_changes ORDER BY id`);
  return out;
}

async function settle(dir: string): Promise<void> {
  const t = new Date(Date.now() - 60_000);
  for (const name of await readdir(dir)) await utimes(join(dir, name), t, t);
}

/** Starts `cases-etl run` and SIGKILLs it as soon as it reports finishing the `afterFiles`th file. */
function runAndKill(target: Target, source: string, afterFiles: number): Promise<{ killed: boolean; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'run', '--source', source, '--progress'], {
      env: { ...process.env, ...target.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!killed && new RegExp(`^\\[${afterFiles}/\\d+\\]`, 'm').test(stderr)) {
        killed = child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('exit', () => resolve({ killed, stderr }));
  });
}

describe.each(DIALECTS)('kill -9 mid-load on %s', (dialect) => {
  let target: Target;
  let source: string;

  beforeAll(async () => {
    target = await createTarget(dialect);
    source = join(target.dir, 'export');
    await generateSchool({ outDir: source, students: 2500, seed: 3 });
    await settle(source);
  });
  afterAll(() => target.cleanup());

  it('leaves the previous night intact, and the next run publishes and records the interrupted one', async () => {
    const night1 = await runEtl({ config: target.config({ CASES_DIRECTORY: source }) });
    expect(night1.status).toBe('succeeded');
    let probe = await target.probe();
    const before = await snapshot(probe);
    await probe.close();

    // Night 2 changes every student's surname, then the load is killed after its first file.
    await editCsv(join(source, 'ST_8865.csv'), (rows, col) =>
      rows.map((r) => Object.assign([...r], { [col('SURNAME')]: `${r[col('SURNAME')]}X` })),
    );
    await settle(source);
    const { killed, stderr } = await runAndKill(target, source, 1);
    expect(killed, `the run must still be going when killed; stderr: ${stderr}`).toBe(true);

    probe = await target.probe();
    expect(await snapshot(probe)).toEqual(before);
    const runs = await probe.all(`SELECT id, status FROM etl_runs ORDER BY id`);
    expect(runs).toEqual([
      { id: night1.runId, status: 'succeeded' },
      { id: Number(night1.runId) + 1, status: 'running' },
    ]);
    await probe.close();

    const night2 = await runEtl({ config: target.config({ CASES_DIRECTORY: source }) });
    expect(night2.status).toBe('succeeded');
    expect(night2.runs[0]?.tables.find((t) => t.table === 'ST')?.updated).toBe(2500);
    probe = await target.probe();
    expect(await probe.all(`SELECT id, status, error_code FROM etl_runs ORDER BY id`)).toEqual([
      { id: night1.runId, status: 'succeeded', error_code: null },
      { id: Number(night1.runId) + 1, status: 'failed', error_code: 'ETL_RUN_INTERRUPTED' },
      { id: night2.runId, status: 'succeeded', error_code: null },
    ]);
    await probe.close();
  });
});
