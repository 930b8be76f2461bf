import { chmod } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/fixtures.js';
import { copySample, editCsv } from './helpers/nights.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

describe('cases-etl run, runs and migrate', () => {
  it("does what the README's first command promises: loads the sample into SQLite, then says it is already loaded", async () => {
    const src = join(dir, 'export');
    await copySample(src);
    // The embedded default: no DATABASE_URL, so ./data/cases-etl.db under the working directory.
    const first = await runCli(['run', '--source', src], {}, dir);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('School 8865: run 1 succeeded');
    expect(first.stdout).toMatch(/ST_8865\.csv\s+ST\s+full\s+200\s+0\s+0\s+0\s+0\s+0/);
    expect(first.stdout).toContain('2,658 rows from 16 files, 0 rejected (0%)');

    const again = await runCli(['run', '--source', src], {}, dir);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('School 8865: run 2 skipped — this file set was already published by run 1');

    const runs = await runCli(['runs', '--json'], {}, dir);
    expect(JSON.parse(runs.stdout).map((r: { id: number; status: string }) => [r.id, r.status])).toEqual([
      [2, 'skipped'],
      [1, 'succeeded'],
    ]);
    const table = await runCli(['runs'], {}, dir);
    expect(table.stdout).toMatch(/^\s+1\s+8865\s+succeeded\s+cli\s/m);
    // A school without runs in a ledger with others is said to be that, not "nothing has run yet".
    const none = await runCli(['runs', '--school', '9999'], {}, dir);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain('School 9999 has no runs in sqlite:');
    expect(none.stdout).not.toContain('No runs yet');

    expect((await runCli(['migrate'], {}, dir)).stdout).toContain(
      `sqlite:${join(dir, 'data', 'cases-etl.db')}: up to date`,
    );
  });

  it('exits 1 when a guard rail fails the run, naming the reason', async () => {
    const src = join(dir, 'export');
    await copySample(src);
    await editCsv(join(src, 'ST_8865.csv'), (rows, col) =>
      rows.map((r) => Object.assign([...r], { [col('BIRTHDATE')]: 'soon' })),
    );
    const r = await runCli(
      ['run', '--source', src, '--progress'],
      { DATABASE_URL: `sqlite:${join(dir, 'x.db')}` },
      dir,
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('School 8865: run 1 failed');
    expect(r.stdout).toContain('guard ETL_GUARD_ERROR_RATE:');
    // Nothing was published, and the table says so rather than showing counts as if applied.
    expect(r.stdout).toContain('Nothing was published: the counts say what the run would have done.');
    expect(r.stdout).toMatch(/WOULD INSERT\s+WOULD UPDATE\s+WOULD DEACTIVATE/);
    const listed = await runCli(['runs'], { DATABASE_URL: `sqlite:${join(dir, 'x.db')}` }, dir);
    expect(listed.stdout).toMatch(
      /^\s*1\s+8865\s+failed\s+cli\s+\S+ \S+\s+[\d.]+\s+[\d,]+\s+-\s+-\s+-\s+200\s+0\s+200\s/m,
    );
    expect(r.stderr).toMatch(/^\[12\/16\] ST_8865\.csv: 0 rows, 200 rejected$/m);
  });

  it('fails the night without a stack trace when an optional file cannot be read (mode 000)', async () => {
    const src = join(dir, 'export');
    await copySample(src);
    await chmod(join(src, 'SU_8865.csv'), 0o000);
    const env = { DATABASE_URL: `sqlite:${join(dir, 'unreadable.db')}` };
    // Root reads any file: the run drops the capabilities that let it, as an ordinary account would be.
    const wrap = process.getuid?.() === 0 ? ['setpriv', '--bounding-set=-dac_override,-dac_read_search', '--'] : [];
    const checked = await runCli(['validate', '--source', src], env, dir, { wrap });
    expect(checked.code).toBe(1);
    expect(checked.stdout).toMatch(
      /SU_8865\.csv: not readable — ETL_SOURCE_UNREADABLE: cannot read \S+SU_8865\.csv: EACCES \(open\)/,
    );
    const r = await runCli(['run', '--source', src], env, dir, { wrap });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('School 8865: run 1 failed');
    expect(r.stdout).toMatch(
      /guard ETL_GUARD_UNREADABLE: table SU could not be read from SU_8865\.csv: cannot read \S+SU_8865\.csv: EACCES/,
    );
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/^\s+at |node_modules\//m);
    const shown = await runCli(['runs', '--id', '1', '--json'], env, dir);
    const su = JSON.parse(shown.stdout).files.find((f: { fileName: string }) => f.fileName === 'SU_8865.csv');
    expect(su.error).toMatch(/^ETL_SOURCE_UNREADABLE: cannot read .*EACCES/);
  });

  it('names an unreachable or unforeseen database failure by its code, never with a stack trace', async () => {
    const refused = await runCli(['runs'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test' }, dir);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^error ETL_DB_UNAVAILABLE: cannot connect to postgres:\/\/127\.0\.0\.1:1\/test \(schema public\): the connection was refused: nothing is listening at 127\.0\.0\.1:1$/m,
    );
    expect(refused.stderr).toContain('  fix: Check DATABASE_URL');
    const missing = await runCli(
      ['runs'],
      { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/cases_etl_no_such_database' },
      dir,
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      /^error ETL_DB_UNAVAILABLE: cannot connect to postgres:\/\/127\.0\.0\.1:5432\/cases_etl_no_such_database \(schema public\): database "cases_etl_no_such_database" does not exist$/m,
    );
    for (const r of [refused, missing]) expect(`${r.stdout}${r.stderr}`).not.toMatch(/^\s+at |node_modules\//m);
  });

  it('shows one run in full with runs --id: its files and first rejects, never their values', async () => {
    const src = join(dir, 'export');
    await copySample(src);
    await editCsv(join(src, 'ST_8865.csv'), (rows, col) =>
      rows.map((r, i) => (i < 3 ? Object.assign([...r], { [col('BIRTHDATE')]: 'teatime' }) : r)),
    );
    const env = { DATABASE_URL: `sqlite:${join(dir, 'show.db')}` };
    expect((await runCli(['run', '--source', src], env, dir)).code).toBe(0);
    const shown = await runCli(['runs', '--id', '1', '--limit', '2'], env, dir);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^Run 1 of school 8865: warning, cli, started /);
    expect(shown.stdout).toContain('2,655 rows, 3 rejected, 3 held; 2,655 inserted');
    expect(shown.stdout).toMatch(/ST_8865\.csv\s+ST\s+full\s+197\s+197\s+0\s+0\s+0\s+3\s+0\s+3/);
    expect(shown.stdout).toContain('First 2 of 3 rejected rows (values are not shown):');
    expect(shown.stdout).toMatch(/ST_8865\.csv\s+2\s+\S+\s+BIRTHDATE\s+ETL_TYPE_DATE\s/);
    expect(shown.stdout).not.toContain('teatime');
    const json = JSON.parse((await runCli(['runs', '--id', '1', '--json'], env, dir)).stdout);
    expect(json.files).toHaveLength(16);
    expect(json.rejects).toHaveLength(3);
    expect(JSON.stringify(json)).not.toContain('teatime');
    const missing = await runCli(['runs', '--id', '99'], env, dir);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('there is no run 99');
  });

  it('exits 2 for a bad DATABASE_URL and a bad --limit', async () => {
    const bad = await runCli(['run', '--source', dir], { DATABASE_URL: 'mysql://x' }, dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('DATABASE_URL must start with sqlite: or postgres://');
    const limit = await runCli(['runs', '--limit', 'lots'], {}, dir);
    expect(limit.code).toBe(2);
    expect(limit.stderr).toContain('--limit must be a whole number');
  });
});
