import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { runCli } from './helpers/cli.js';
import { fixture, stage, tempDir } from './helpers/fixtures.js';
import { SEED_EXAMPLE } from './helpers/seed-dat.js';

/** The TABLE column of the first FILE/TABLE table in a command's output. */
function tableColumn(output: string): string[] {
  const lines = output.split('\n');
  const head = lines.findIndex((l) => /^\s+FILE\s+TABLE\s/.test(l));
  const rows = [];
  for (const line of lines.slice(head + 1)) {
    if (!/^\s+\S/.test(line) || !/\.(csv|DAT)\s/i.test(line)) break;
    rows.push(line.trim().split(/\s{2,}/)[1]);
  }
  return rows.filter((t): t is string => t !== undefined);
}

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

describe('cases-etl validate', () => {
  it('reports each file of a good export and exits 0', async () => {
    await stage(dir, [
      { from: 'eduhub/good/ST_8865.csv', to: 'ST_8865.csv' },
      { from: 'eduhub/good/SF_8865.csv', to: 'SF_8865.csv' },
      { from: 'eduhub/good/KGC_8865.csv', to: 'KGC_8865.csv' },
      { from: 'eduhub/good/README.txt', to: 'README.txt' },
    ]);
    const r = await runCli(['validate', '--source', dir], {}, dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ST_8865\.csv\s+ST\s+full\s+csv\s+5\s+0\s+ok/);
    expect(r.stdout).toContain('ETL_SOURCE_UNKNOWN_FILE: ignored 1 file that match no layout: README.txt');
    expect(r.stdout).toContain('Totals: 3 files, 9 rows, 0 rejected (0%), 0 unreadable');
  });

  it('names the file, line, key and field of every problem, without printing the data', async () => {
    await stage(dir, [
      { from: 'eduhub/broken/bad-date.csv', to: 'ST_8865.csv' },
      { from: 'eduhub/good/SF_8865.csv', to: 'SF_8865.csv' },
    ]);
    const r = await runCli(['validate', '--source', dir], {}, dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('ST_8865.csv: 3 rejected rows (ETL_TYPE_DATE_INVALID ×2, ETL_TYPE_DATE ×1)');
    expect(r.stdout).toContain(
      'ST_8865.csv: 3 with a readable key: a run holds those rows as they were last published',
    );
    expect(r.stdout).not.toContain('without a readable key');
    expect(r.stdout).toContain(
      'line 2 key ABC0001 BIRTHDATE: ETL_TYPE_DATE_INVALID BIRTHDATE is not a real calendar date or time',
    );
    expect(r.stdout).not.toContain('NGUYEN');
    expect(r.stdout).not.toContain('31/02/2019');

    const json = await runCli(['validate', '--source', dir, '--json'], {}, dir);
    const report = JSON.parse(json.stdout);
    const st = report.schools[0].files.find((f: any) => f.file === 'ST_8865.csv');
    expect(st.rejectedRows).toBe(3);
    expect(st.examples[0]).toEqual({
      file: 'ST_8865.csv',
      line: 2,
      key: 'ABC0001',
      field: 'BIRTHDATE',
      code: 'ETL_TYPE_DATE_INVALID',
      message: 'BIRTHDATE is not a real calendar date or time',
    });
  });

  it('exits 1 when a required file is missing or unreadable', async () => {
    await stage(dir, [{ from: 'eduhub/good/KGC_8865.csv', to: 'KGC_8865.csv' }]);
    const missing = await runCli(['validate', '--source', dir], {}, dir);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain('missing required tables: SF, ST');

    await stage(dir, [
      { from: 'eduhub/broken/empty.csv', to: 'ST_8865.csv' },
      { from: 'eduhub/good/SF_8865.csv', to: 'SF_8865.csv' },
    ]);
    const empty = await runCli(['validate', '--source', dir], {}, dir);
    expect(empty.code).toBe(1);
    expect(empty.stdout).toContain(
      'ST_8865.csv: not readable — ETL_PARSE_EMPTY_FILE: the file is empty: no header row',
    );

    const nothing = await runCli(['validate', '--source', join(dir, 'nope')], {}, dir);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain('ETL_SOURCE_NOT_FOUND');
  });

  it('exits 2 for bad configuration and a malformed relationships.json, listing every problem', async () => {
    const env = await runCli(
      ['validate', '--source', dir],
      { ETL_MAX_ERROR_RATE: 'lots', ETL_REQUIRED_TABLES: 'S T' },
      dir,
    );
    expect(env.code).toBe(2);
    expect(env.stderr).toContain('ETL_CONFIG_INVALID');
    expect(env.stderr).toContain('ETL_MAX_ERROR_RATE="lots" must be a number from 0 to 1');
    expect(env.stderr).toContain('ETL_REQUIRED_TABLES has "S T"');

    const rel = await runCli(
      ['validate', '--source', dir],
      { CASES_RELATIONSHIPS_JSON: fixture('relationships', 'malformed-shape.json') },
      dir,
    );
    expect(rel.code).toBe(2);
    expect(rel.stderr).toContain('file_layouts["STUDENT.DAT"].columns[3].width must be a positive integer');
    expect(rel.stderr).toContain('file_layouts["STAFF.DAT"].columns must list at least one column');

    const usage = await runCli(['validate', '--bogus'], {}, dir);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("unknown option '--bogus'");

    const none = await runCli(['validate'], {}, dir);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('set CASES_DIRECTORY or pass --source DIR');
  });

  it('reads fixed-width files through relationships.json with the school from CASES_SCHOOL_ID', async () => {
    await stage(dir, [{ from: 'fixed/STUDENT.DAT', to: 'STUDENT.DAT' }]);
    const r = await runCli(
      ['validate', '--source', dir],
      { CASES_RELATIONSHIPS_JSON: fixture('fixed', 'relationships.json'), CASES_SCHOOL_ID: '4321' },
      dir,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('School 4321');
    expect(r.stdout).toMatch(/STUDENT\.DAT\s+DF\s+full\s+fixed\s+2\s+4/);
    expect(r.stdout).toContain('line 3 key ABC0003: ETL_PARSE_LONG_LINE');
  });

  it('names a table as run does: the table (DF), with the school on its own line, not DF_4321', async () => {
    await stage(dir, [{ from: 'fixed/STUDENT.DAT', to: 'STUDENT.DAT' }]);
    const env = {
      CASES_RELATIONSHIPS_JSON: fixture('fixed', 'relationships.json'),
      CASES_SCHOOL_ID: '4321',
      DATABASE_URL: `sqlite:${join(dir, 'names.db')}`,
      ETL_MAX_ERROR_RATE: '1',
    };
    const [validated, ran] = [
      await runCli(['validate', '--source', dir], env, dir),
      await runCli(['run', '--source', dir], env, dir),
    ];
    expect(ran.stdout).toContain('School 4321: run 1');
    expect(validated.stdout).toContain('School 4321: 1 file');
    expect(tableColumn(validated.stdout)).toEqual(['DF']);
    expect(tableColumn(ran.stdout)).toEqual(tableColumn(validated.stdout));
  });
});

describe('cases-etl validate, two files for one table', () => {
  it('names both files and the table, and exits 1', async () => {
    await stage(dir, [
      { from: 'eduhub/good/ST_8865.csv', to: 'ST_8865.csv' },
      { from: 'eduhub/good/ST_8865.csv', to: 'st_8865.csv' },
      { from: 'eduhub/good/SF_8865.csv', to: 'SF_8865.csv' },
    ]);
    const r = await runCli(['validate', '--source', dir], {}, dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'ETL_SOURCE_DUPLICATE_TABLE: ST_8865.csv and st_8865.csv are each the full extract of table ST',
    );
    expect(r.stdout).toContain('missing required table: ST');
    const json = JSON.parse((await runCli(['validate', '--source', dir, '--json'], {}, dir)).stdout);
    expect(json.schools[0].conflicts).toEqual([
      expect.objectContaining({ table: 'ST', files: ['ST_8865.csv', 'st_8865.csv'] }),
    ]);
    expect(json.schools[0].files.map((f: { file: string }) => f.file)).toEqual(['SF_8865.csv']);
  });
});

describe('cases-etl layouts', () => {
  it('lists every table with where its layout came from', async () => {
    const r = await runCli(['layouts', 'list'], { CASES_RELATIONSHIPS_JSON: fixture('relationships.json') });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`relationships.json: ${fixture('relationships.json')}`);
    expect(r.stdout).toMatch(/ST\s+builtin\s+csv\s+ST_<SITE>\.csv\s+STKEY\s+211\s+Students/);
    // Every CASES21 v67 table is built in, those with underscores in their names too.
    expect(r.stdout).toMatch(/KCC\s+builtin\s+csv\s+KCC_<SITE>\.csv\s+KCCKEY\s+17\s+Calendar Dates for Absences/);
    expect(r.stdout).toMatch(/ST_TFR\s+builtin\s+csv\s+ST_TFR_<SITE>\.csv\s+TID\s+153\s+ST Transfer/);
    expect(r.stdout.match(/^ {2}\S+\s+builtin\s+csv\s/gm)).toHaveLength(321);
    // STSSB, newer than v67, is the profile's only: columns from the file's header.
    expect(r.stdout).toMatch(/STSSB\s+profile\s+csv\s+STSSB_<SITE>\.csv\s+\(none\)\s+header/);
    expect(r.stdout).toMatch(/no primary key and cannot be loaded until one is given: .*STSSB/);
  });

  it('shows one table, by table name or file name', async () => {
    const st = await runCli(['layouts', 'show', 'ST_8865']);
    expect(st.code).toBe(0);
    expect(st.stdout).toContain('ST — Students');
    expect(st.stdout).toMatch(/1\s+STKEY\s+string\s+10\s+yes\s+Student ID/);
    const dat = await runCli(['layouts', 'show', 'student.dat', '--json'], {
      CASES_RELATIONSHIPS_JSON: fixture('fixed', 'relationships.json'),
    });
    expect(JSON.parse(dat.stdout)).toMatchObject({
      table: 'DF',
      origin: 'relationships',
      format: 'fixed',
      file: 'STUDENT.DAT',
      primaryKey: ['CASES_KEY'],
    });
    expect(JSON.parse(dat.stdout).keyRule).toBe('layout');
    const unknown = await runCli(['layouts', 'show', 'NOPE']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('ETL_LAYOUT_UNKNOWN_TABLE');
  });

  it('says which rule chose a key, and offers a date type for a YYYYMMDD-looking column without applying it', async () => {
    const real = JSON.parse(await readFile(fixture('relationships.json'), 'utf8')) as object;
    const path = join(dir, 'relationships.json');
    await writeFile(path, JSON.stringify({ ...real, file_layouts: { 'STUDENT.DAT': SEED_EXAMPLE } }));
    const text = await runCli(['layouts', 'show', 'STUDENT.DAT'], { CASES_RELATIONSHIPS_JSON: path });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('key:       CASES_KEY');
    expect(text.stdout).toContain(
      "key rule:  profile-first-column (inferred: the layout's first column, which primary_keys lists as unique)",
    );
    expect(text.stdout).toMatch(
      /4\s+DOB\s+string\s+8\s+70\s+8\s+looks like a date: add "type": "date", "format": "yyyymmdd"/,
    );
    expect(text.stdout).toMatch(/6\s+HOMEKEY\s+string\s+10\s+79\s+10\s*\n/);
    const json = JSON.parse(
      (await runCli(['layouts', 'show', 'STUDENT.DAT', '--json'], { CASES_RELATIONSHIPS_JSON: path })).stdout,
    );
    expect(json).toMatchObject({ origin: 'relationships', primaryKey: ['CASES_KEY'], keyRule: 'profile-first-column' });
    expect(json.columns.find((c: { name: string }) => c.name === 'DOB')).toMatchObject({
      type: 'string',
      hint: expect.stringContaining('looks like a date'),
    });
  });

  it("lists and shows the seed's four built-in .DAT layouts with no relationships.json", async () => {
    const list = await runCli(['layouts', 'list'], {}, dir);
    expect(list.stdout).toContain('relationships.json: (none: built-in layouts only)');
    expect(list.stdout).toMatch(/DF\s+builtin\s+csv\s+DF_<SITE>\.csv\s+DFKEY/);
    expect(list.stdout).toMatch(/DF\s+builtin\s+fixed\s+STUDENT\.DAT\s+CASES_KEY\s+10\s+the seed's fixed-width export/);
    expect(list.stdout).toMatch(/PARENT\s+builtin\s+fixed\s+PARENT\.DAT\s+PARENT_KEY\s+6/);
    const show = await runCli(['layouts', 'show', 'enrol.dat'], {}, dir);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('from:      built-in layout (data/seed-dat-layouts.json file_layouts["ENROL.DAT"]');
    expect(show.stdout).toContain('key:       CASES_KEY, CLASS_CODE, PERIOD, YEAR, SEMESTER');
    expect(show.stdout).toContain('required:  yes (with the other .DAT files, when the folder holds any of them)');
  });
});
