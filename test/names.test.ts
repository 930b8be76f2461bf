import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { EtlError } from '../src/errors/index.js';
import { isRetryableError } from '../src/jobs/index.js';
import { runEtl, type EtlResult } from '../src/pipeline/index.js';
import { runCli } from './helpers/cli.js';
import { readCsv, writeCsv } from './helpers/nights.js';
import { DIALECTS, useExportFolder } from './helpers/targets.js';

/**
 * Issue 16 §3: names from files never reach another school's rows or the bookkeeping. A header
 * that is reserved or cannot be a column is a file-level reject with its own code, decided
 * before any row, on both databases alike: never an exception, never "database unavailable".
 */
describe.each(DIALECTS)('header names on %s', (dialect) => {
  const folder = useExportFolder(dialect);
  const run = (): Promise<EtlResult> => runEtl({ config: folder.target.config({ CASES_DIRECTORY: folder.src }) });
  const st = (): string => join(folder.src, 'ST_8865.csv');
  const query = folder.query;
  const count = async (sql: string, params: unknown[] = []): Promise<number> =>
    Number((await query(sql, params))[0]?.n);

  /** Adds a column named `name` to ST (every row gets `value`), as a broken export might. */
  async function addStColumn(name: string, value: string, mtime: Date): Promise<void> {
    const csv = await readCsv(st());
    await writeCsv(st(), { header: [...csv.header, name], rows: csv.rows.map((r) => [...r, value]) }, mtime);
  }

  /** The ST file's outcome: its error (code first) in the result and in the ledger. */
  async function stOutcome(result: EtlResult): Promise<{ error: string | null; ledger: unknown }> {
    const table = result.runs[0]?.tables.find((t) => t.file === 'ST_8865.csv');
    const rows = await query(`SELECT error FROM etl_run_files WHERE run_id = ? AND file_name = 'ST_8865.csv'`, [
      result.runId,
    ]);
    return { error: table?.error ?? null, ledger: rows[0]?.error ?? null };
  }

  it('refuses a SCHOOL_ID header on an existing mirror: no student moves to another school', async () => {
    const night1 = await run();
    expect(night1.status).toBe('succeeded');
    const before = await query(`SELECT stkey, _hash, _changed_run, _active FROM cases_st ORDER BY stkey`);
    expect(before).toHaveLength(200);

    await addStColumn('SCHOOL_ID', '9999', new Date(Date.now() - 30_000));
    const night2 = await run();
    const st2 = await stOutcome(night2);
    expect(st2.error).toMatch(/^ETL_PARSE_RESERVED_HEADER: header column \d+ is SCHOOL_ID, a reserved name/);
    expect(st2.ledger).toBe(st2.error);
    expect(await count(`SELECT count(*) AS n FROM cases_st WHERE school_id = '8865'`)).toBe(200);
    expect(await count(`SELECT count(*) AS n FROM cases_st WHERE school_id <> '8865'`)).toBe(0);
    expect(await query(`SELECT stkey, _hash, _changed_run, _active FROM cases_st ORDER BY stkey`)).toEqual(before);
    const ledger = await query(`SELECT error_code FROM etl_runs WHERE id = ?`, [night2.runId]);
    expect(ledger[0]?.error_code).not.toBe('ETL_DB_UNAVAILABLE');
  });

  it("keeps SKGS's own SCHOOL_ID column apart from the mirror's school column", async () => {
    // SKGS is eduHub's list of schools: its SCHOOL_ID describes another school, never whose rows these are.
    await writeCsv(
      join(folder.src, 'SKGS_8865.csv'),
      {
        header: ['SCHOOL', 'NAME', 'SCHOOL_ID'],
        rows: [
          ['8865', 'NOSSAL', '1234'],
          ['9999', 'OTHER', '5678'],
        ],
      },
      new Date(Date.now() - 30_000),
    );
    const night = await run();
    expect(night.status).toBe('succeeded');
    expect(night.runs[0]?.tables.find((t) => t.table === 'SKGS')).toMatchObject({
      inserted: 2,
      rejected: 0,
      error: null,
    });
    expect(await query(`SELECT school_id, school, cases_school_id FROM cases_skgs ORDER BY school`)).toEqual([
      { school_id: '8865', school: '8865', cases_school_id: '1234' },
      { school_id: '8865', school: '9999', cases_school_id: '5678' },
    ]);
  });

  it('refuses bookkeeping, empty, control-character and over-long headers as coded file-level rejects', async () => {
    await run();
    const before = await query(
      `SELECT stkey, _hash, _inserted_run, _changed_run, _active FROM cases_st ORDER BY stkey`,
    );
    const long = 'LONG_HEADER_'.padEnd(63, 'X');
    const cases: Array<{ edit: (csv: { header: string[]; rows: string[][] }) => void; code: string }> = [
      { edit: (c) => add(c, '_HASH', 'x'), code: 'ETL_PARSE_RESERVED_HEADER' },
      { edit: (c) => add(c, '_ACTIVE', '0'), code: 'ETL_PARSE_RESERVED_HEADER' },
      { edit: (c) => add(c, '_INSERTED_RUN', '99'), code: 'ETL_PARSE_RESERVED_HEADER' },
      { edit: (c) => add(c, '', ''), code: 'ETL_PARSE_BAD_HEADER' },
      { edit: (c) => add(c, 'NOTE\0S', ''), code: 'ETL_PARSE_BAD_HEADER' },
      // PostgreSQL would cut both to the same 63 bytes: one column, twice.
      { edit: (c) => (add(c, `${long}1`, 'a'), add(c, `${long}2`, 'b')), code: 'ETL_PARSE_BAD_HEADER' },
    ];
    function add(csv: { header: string[]; rows: string[][] }, name: string, value: string): void {
      csv.header.push(name);
      for (const r of csv.rows) r.push(value);
    }
    const original = await readCsv(st());
    for (const [i, c] of cases.entries()) {
      const csv = { header: [...original.header], rows: original.rows.map((r) => [...r]) };
      c.edit(csv);
      await writeCsv(st(), csv, new Date(Date.now() - 50_000 + i * 1000));
      const result = await run();
      const outcome = await stOutcome(result);
      expect(outcome.error, `case ${i}`).toMatch(new RegExp(`^${c.code}: header column ${original.header.length + 1}`));
      expect(outcome.ledger, `case ${i}`).toBe(outcome.error);
      const ledger = await query(`SELECT error_code FROM etl_runs WHERE id = ?`, [result.runId]);
      expect(ledger[0]?.error_code, `case ${i}`).not.toBe('ETL_DB_UNAVAILABLE');
    }
    expect(
      await query(`SELECT stkey, _hash, _inserted_run, _changed_run, _active FROM cases_st ORDER BY stkey`),
    ).toEqual(before);
  });

  it('prints the codes from `cases-etl validate` and `cases-etl run`', async () => {
    const first = await runCli(['run'], { ...folder.target.env, CASES_DIRECTORY: folder.src });
    expect(first.code).toBe(0);
    await addStColumn('SCHOOL_ID', '9999', new Date(Date.now() - 30_000));
    const validate = await runCli(['validate', '--source', folder.src]);
    expect(validate.stdout).toMatch(
      /ST_8865\.csv: not readable — ETL_PARSE_RESERVED_HEADER: header column \d+ is SCHOOL_ID/,
    );
    expect(validate.stdout).not.toContain('9999');
    const second = await runCli(['run'], { ...folder.target.env, CASES_DIRECTORY: folder.src });
    expect(second.stdout + second.stderr).toMatch(
      /ST_8865\.csv: ETL_PARSE_RESERVED_HEADER: header column \d+ is SCHOOL_ID/,
    );
    expect(second.stdout + second.stderr).not.toContain('9999');

    const csv = await readCsv(st());
    await writeCsv(st(), { header: [...csv.header.slice(0, -1), ''], rows: csv.rows }, new Date(Date.now() - 20_000));
    const trailing = await runCli(['validate', '--source', folder.src]);
    expect(trailing.stdout).toMatch(
      /ETL_PARSE_BAD_HEADER: header column \d+ is empty \(a trailing comma on the header line\?\)/,
    );
    expect(await count(`SELECT count(*) AS n FROM cases_st WHERE school_id = '8865'`)).toBe(200);
  });
});

describe.each(DIALECTS)("a layout that changes a mirror's key on %s", (dialect) => {
  const folder = useExportFolder(dialect);

  it('refuses to load DF keyed on another column, changing nothing, and is not retried', async () => {
    const night1 = await runEtl({ config: folder.target.config({ CASES_DIRECTORY: folder.src }) });
    expect(night1.status).toBe('succeeded');
    const before = await folder.query(`SELECT dfkey, _hash, _changed_run, _active FROM cases_df ORDER BY dfkey`);
    // The school switches DF to a layout of its own, keyed on another column.
    const relationships = join(folder.target.dir, 'relationships.json');
    const layout = {
      table_name: 'DF_8865',
      format: 'csv',
      columns: [{ name: 'DFKEY' }, { name: 'BPAY_REFERENCE' }],
      primary_key: 'BPAY_REFERENCE',
    };
    await writeFile(
      relationships,
      JSON.stringify({ primary_keys: {}, relationships: [], file_layouts: { 'DF_8865.csv': layout } }),
    );
    const config = folder.target.config({ CASES_DIRECTORY: folder.src, CASES_RELATIONSHIPS_JSON: relationships });
    const err = await runEtl({ config, force: true }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(EtlError);
    expect((err as EtlError).code).toBe('ETL_LAYOUT_KEY_CHANGED');
    expect((err as EtlError).message).toBe(
      "table DF (cases_df) is keyed on DFKEY in the database, but its layout's key is BPAY_REFERENCE: " +
        'run `cases-etl migrate --rekey DF` to rebuild it under the new key, or give the layout a different table_name',
    );
    expect(isRetryableError(err)).toBe(false);
    expect(await folder.query(`SELECT dfkey, _hash, _changed_run, _active FROM cases_df ORDER BY dfkey`)).toEqual(
      before,
    );
    expect(
      await folder.query(`SELECT count(*) AS n FROM cases_df WHERE bpay_reference IS NULL OR dfkey IS NULL`),
    ).toEqual([{ n: 0 }]);
  });
});
