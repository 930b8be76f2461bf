import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runCli } from './helpers/cli.js';
import { fixture, tempDir } from './helpers/fixtures.js';

const examples = fixture('..', '..', 'examples');

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

describe('sample data', () => {
  it('the shipped eduHub sample validates with zero rejects', async () => {
    const r = await runCli(['validate', '--source', `${examples}/8865`, '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.totals).toMatchObject({ files: 16, rejectedRows: 0, unreadable: 0 });
    expect(report.totals.rows).toBeGreaterThan(2000);
    expect(report.unknown).toEqual([]);
  });

  it('the shipped fixed-width sample validates with zero rejects through its relationships.json', async () => {
    const r = await runCli(['validate', '--source', `${examples}/fixed`, '--json'], {
      CASES_RELATIONSHIPS_JSON: `${examples}/fixed/relationships.json`,
      CASES_SCHOOL_ID: '8865',
    });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.totals).toMatchObject({ files: 2, rows: 220, rejectedRows: 0 });
    expect(report.unknown).toEqual([]);
  });

  it('a generated 1,500-student school validates with zero rejects', async () => {
    const gen = await runCli(['generate', '--out', dir, '--students', '1500', '--seed', '7']);
    expect(gen.code).toBe(0);
    expect(gen.stdout).toContain('Wrote 16 files');
    const r = await runCli(['validate', '--source', dir, '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.totals.rejectedRows).toBe(0);
    const st = report.schools[0].files.find((f: any) => f.table === 'ST');
    expect(st.rows).toBe(1500);
    // Every built-in column is in the header: nothing reported missing or unknown.
    expect(report.schools[0].files.flatMap((f: any) => f.notices)).toEqual([]);
  });

  it('generate refuses bad options with exit 2', async () => {
    const r = await runCli(['generate', '--out', dir, '--students', 'many']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--students must be a whole number');
  });
});
