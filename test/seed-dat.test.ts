import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { runEtl, type EtlResult } from '../src/pipeline/index.js';
import { fixture, stage } from './helpers/fixtures.js';
import { copySample } from './helpers/nights.js';
import { SEED_EXAMPLE, writeSeedNight } from './helpers/seed-dat.js';
import { DIALECTS, useExportFolder } from './helpers/targets.js';

/**
 * The seed's fixed-width export, as the seed documents it: its STUDENT.DAT example layout, and
 * the "hardcoded schemas" it fell back to without relationships.json, now built in.
 */

describe.each(DIALECTS)("the seed's fixed-width export on %s", (dialect) => {
  const folder = useExportFolder(dialect, { sample: false });

  /** A relationships.json beside (not in) the export folder: the school's real profile plus `fileLayouts`. */
  async function relationships(fileLayouts: Record<string, unknown>): Promise<string> {
    const real = JSON.parse(await readFile(fixture('relationships.json'), 'utf8')) as Record<string, unknown>;
    const path = join(folder.target.dir, 'relationships.json');
    await writeFile(path, JSON.stringify({ ...real, file_layouts: fileLayouts }));
    return path;
  }
  const run = (extra: Record<string, string> = {}): Promise<EtlResult> =>
    runEtl({
      config: folder.target.config({ CASES_DIRECTORY: folder.src, CASES_SCHOOL_ID: '8865', ...extra }),
      notifier: null,
    });
  const rows = (sql: string): Promise<Array<Record<string, unknown>>> => folder.query(sql);

  it('loads the four .DAT files with no relationships.json at all, into their own tables and views', async () => {
    await writeSeedNight(folder.src, 12);
    const result = await run();
    expect(result.errors).toEqual([]);
    expect(result).toMatchObject({ status: 'succeeded', success: true });
    expect(result.stats).toMatchObject({ files: 4, rejected: 0 });
    expect(result.runs[0]?.tables.map((t) => [t.file, t.table, t.rows])).toEqual([
      ['STUDENT.DAT', 'DF', 12],
      ['ENROL.DAT', 'ENROL', 24],
      ['PARENT.DAT', 'PARENT', 12],
      ['STAFF.DAT', 'SF', 3],
    ]);
    expect(await rows(`SELECT "studentId", surname, "homeGroup" FROM student WHERE "studentId" = 'TST0001'`)).toEqual([
      { studentId: 'TST0001', surname: 'SURNAME1', homeGroup: '7A' },
    ]);
    expect(await rows(`SELECT count(*) AS n FROM enrol WHERE "studentId" = 'TST0002'`)).toEqual([{ n: 2 }]);
    expect(await rows(`SELECT "staffId", department FROM staff ORDER BY "staffId" LIMIT 1`)).toEqual([
      { staffId: 'STF1', department: 'Mathematics' },
    ]);
    expect(await rows(`SELECT count(*) AS n FROM parent`)).toEqual([{ n: 12 }]);
  });

  it('fails a .DAT night that lacks one of the four, naming it', async () => {
    await writeSeedNight(folder.src, 5, ['STUDENT.DAT', 'STAFF.DAT', 'ENROL.DAT']);
    const result = await run();
    expect(result).toMatchObject({ status: 'failed', success: false });
    expect(result.runs[0]?.guards.map((g) => [g.code, g.message])).toEqual([
      ['ETL_GUARD_REQUIRED', 'required table PARENT has no file'],
    ]);
    expect(await rows(`SELECT count(*) AS n FROM cases_df`).catch(() => [{ n: 0 }])).toEqual([{ n: 0 }]);
  });

  it("loads the seed's own STUDENT.DAT example with zero rejects: key from the profile, HOMEKEY as text", async () => {
    await writeSeedNight(folder.src, 12);
    const path = await relationships({ 'STUDENT.DAT': SEED_EXAMPLE });
    const result = await run({ CASES_RELATIONSHIPS_JSON: path });
    expect(result.errors).toEqual([]);
    expect(result).toMatchObject({ status: 'succeeded', success: true });
    expect(result.stats).toMatchObject({ files: 4, rows: 12 + 24 + 12 + 3, rejected: 0 });
    const inferred = result.notices.filter((n) => n.code === 'ETL_LAYOUT_KEY_INFERRED');
    expect(inferred).toEqual([
      {
        severity: 'info',
        code: 'ETL_LAYOUT_KEY_INFERRED',
        file: 'STUDENT.DAT',
        message:
          'relationships.json file_layouts["STUDENT.DAT"] names no primary_key; using its first column CASES_KEY, which primary_keys lists as unique for DF',
      },
    ]);
    const students = await rows(`SELECT "studentId", surname FROM student ORDER BY "studentId"`);
    expect(students).toHaveLength(12);
    expect(students[0]).toEqual({ studentId: 'TST0001', surname: 'SURNAME1' });
    expect(await rows(`SELECT "homeGroup", dob FROM student WHERE "studentId" = 'TST0001'`)).toEqual([
      { homeGroup: '7A', dob: '20120110' },
    ]);
  });

  it('lets a file_layouts entry for STUDENT.DAT win over the built-in one', async () => {
    await writeSeedNight(folder.src, 6);
    const dob = { name: 'DOB', start: 70, width: 8, type: 'date', format: 'yyyymmdd' };
    const own = {
      ...SEED_EXAMPLE,
      primary_key: 'CASES_KEY',
      view: 'pupils',
      columns: SEED_EXAMPLE.columns.map((c) => (c.name === 'DOB' ? dob : c)),
    };
    const result = await run({ CASES_RELATIONSHIPS_JSON: await relationships({ 'STUDENT.DAT': own }) });
    expect(result.errors).toEqual([]);
    expect(result.status).toBe('succeeded');
    expect(result.notices.map((n) => n.code)).not.toContain('ETL_LAYOUT_KEY_INFERRED');
    const pupil = await rows(`SELECT "studentId", dob FROM pupils WHERE "studentId" = 'TST0001'`);
    expect(pupil).toHaveLength(1);
    // A real date now, not the built-in layout's text.
    expect(String(pupil[0]?.dob)).toMatch(/^2012-01-10/);
    await expect(rows(`SELECT count(*) AS n FROM student`)).rejects.toThrow();
  });

  it("still loads eduHub's CSV sample without asking for the seed's .DAT files", async () => {
    await copySample(folder.src);
    const result = await run();
    expect(result.errors).toEqual([]);
    expect(result.status).toBe('succeeded');
    // The .DAT layouts' views (student, staff, …) are not laid over eduHub's.
    expect(await rows(`SELECT count(*) AS n FROM families`)).not.toEqual([{ n: 0 }]);
    expect(Object.keys((await rows(`SELECT * FROM staff LIMIT 1`))[0] ?? {})).toContain('payroll_number');
  });

  it('fails a night with two files for one table, naming both, and loads neither', async () => {
    await stage(folder.src, [
      { from: 'eduhub/good/ST_8865.csv', to: 'ST_8865.csv' },
      { from: 'eduhub/good/ST_8865.csv', to: 'st_8865.csv' },
      { from: 'eduhub/good/SF_8865.csv', to: 'SF_8865.csv' },
    ]);
    const result = await run();
    expect(result).toMatchObject({ status: 'failed', success: false });
    const run0 = result.runs[0];
    expect(run0?.guards.map((g) => g.code)).toEqual(['ETL_SOURCE_DUPLICATE_TABLE', 'ETL_GUARD_REQUIRED']);
    expect(result.errors[0]).toContain('ST_8865.csv and st_8865.csv are each the full extract of table ST');
    expect(run0?.tables.map((t) => t.file)).toEqual(['SF_8865.csv']);
    const [ledger] = await rows(`SELECT status, error_code FROM etl_runs WHERE id = ${run0?.runId}`);
    expect(ledger).toMatchObject({ status: 'failed', error_code: 'ETL_SOURCE_DUPLICATE_TABLE' });
    // Renaming one away settles it.
    await rename(join(folder.src, 'st_8865.csv'), join(folder.target.dir, 'st_8865.csv'));
    expect((await run()).status).toBe('succeeded');
  });
});
