import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { isEtlError, type EtlError } from '../src/errors/index.js';
import {
  checkRelationshipsJson,
  createLayoutRegistry,
  fileNameForTable,
  formatJsonPath,
  loadBuiltinLayouts,
  loadLayouts,
  readRelationshipsJson,
  tableForFile,
} from '../src/layouts/index.js';
import { fixture, tempDir } from './helpers/fixtures.js';
import { SEED_EXAMPLE } from './helpers/seed-dat.js';

describe('built-in layouts', () => {
  it('has the 321 tables of eduhub-schemas.json (CASES21 v67) with their keys and typed columns', () => {
    const builtins = loadBuiltinLayouts();
    expect(builtins.size).toBe(321);
    // Every table has a key, and every key column is one of its columns.
    for (const [table, layout] of builtins) {
      expect(layout.primaryKey?.length, table).toBeGreaterThan(0);
      for (const k of layout.primaryKey ?? [])
        expect(
          layout.columns.some((c) => c.name === k),
          `${table}.${k}`,
        ).toBe(true);
    }
    // Tables that loaded as text before: dates, numbers and keys now.
    expect(builtins.get('KGL')?.primaryKey).toEqual(['KGLKEY']);
    expect(builtins.get('STVDI')?.columns.find((c) => c.name === 'LW_DATE')?.type).toBe('datetime');
    expect(builtins.get('TCTB')?.primaryKey).toEqual(['TID']);
    expect(builtins.get('SXAS')?.columns.find((c) => c.name === 'TID')?.type).toBe('int');
    const st = builtins.get('ST');
    expect(st?.primaryKey).toEqual(['STKEY']);
    expect(st?.columns).toHaveLength(211);
    expect(st?.columns.find((c) => c.name === 'BIRTHDATE')?.type).toBe('datetime');
    expect(st?.columns.find((c) => c.name === 'SURNAME')).toMatchObject({
      type: 'string',
      maxLength: 30,
      required: false,
    });
    expect(st?.columns.find((c) => c.name === 'REGISTRATION')).toMatchObject({ type: 'int', required: true });
    expect(builtins.get('STMA')?.primaryKey).toEqual(['TID']);
    expect(builtins.get('SM')?.primaryKey).toEqual(['ROOM']);
    expect(builtins.get('SXAB')?.columns.find((c) => c.name === 'AM_EXP_TYPE')?.type).toBe('smallint');
  });
});

describe('relationships.json', () => {
  it("loads the school's real file unchanged: 66 profile tables, relationships, profile keys", async () => {
    const registry = await loadLayouts(fixture('relationships.json'));
    expect(registry.relationships).toHaveLength(1130);
    // 66 profile tables, of which 65 have built-in layouts (STSSB is newer than CASES21 v67), plus
    // the 256 built-in tables the profile does not name.
    expect(registry.tables.size).toBe(322);
    expect(registry.layoutFor('ST')?.origin).toBe('builtin');
    expect(registry.layoutFor('ST')?.candidateKeys).toContain('REGISTRATION');
    expect(registry.layoutFor('KCC')).toMatchObject({ origin: 'builtin', primaryKey: ['KCCKEY'], keyProblem: null });
    expect(registry.layoutFor('KCC')?.candidateKeys).toContain('KCCKEY');
    expect(registry.layoutFor('STPS')?.primaryKey).toEqual(['TID']);
    const stssb = registry.layoutFor('STSSB');
    expect(stssb?.primaryKey).toBeNull();
    expect(stssb?.keyProblem).toMatch(/table STSSB .* no primary key/);
    expect(stssb?.keyProblem).toContain('SKEY');
  });

  it('without a file uses built-ins only; an explicit missing file is an error', async () => {
    const registry = await loadLayouts('/nonexistent/relationships.json', { optional: true });
    expect(registry.tables.size).toBe(321);
    expect(registry.relationshipsPath).toBeNull();
    await expect(loadLayouts('/nonexistent/relationships.json')).rejects.toMatchObject({
      code: 'ETL_LAYOUT_FILE_UNREADABLE',
    });
  });

  it('names the line and column of a JSON syntax error', async () => {
    const err = await readRelationshipsJson(fixture('relationships', 'malformed-syntax.json')).catch((e: unknown) => e);
    expect(isEtlError(err, 'ETL_LAYOUT_FILE_UNREADABLE')).toBe(true);
    expect((err as Error).message).toContain('malformed-syntax.json is not valid JSON (line 1, column 44)');
  });

  it('reports every shape problem at once, each with its JSON path', async () => {
    const err = await readRelationshipsJson(fixture('relationships', 'malformed-shape.json')).catch((e: unknown) => e);
    expect(isEtlError(err, 'ETL_LAYOUT_INVALID')).toBe(true);
    const problems = isEtlError(err) ? err.problems : [];
    expect(problems).toEqual(
      expect.arrayContaining([
        'primary_keys.ST_8865 must be a list of column names',
        'relationships[0].to_table is required',
        'file_layouts["STUDENT.DAT"].columns[3].width must be a positive integer',
        'file_layouts["STUDENT.DAT"].columns[5] has unknown property "widht"',
        'file_layouts["STUDENT.DAT"].columns[5].width is required for a fixed-width layout',
        'file_layouts["STUDENT.DAT"].columns[4].name repeats column "SURNAME" (first at columns[1])',
        'file_layouts["STUDENT.DAT"].columns[2] ("FIRST_NAME", characters 35-54) overlaps columns[1] ("SURNAME", characters 10-39)',
        'file_layouts["STUDENT.DAT"].field_mapping.HOUSE names unknown column "HOUSE"',
        'file_layouts["STAFF.DAT"].columns must list at least one column',
      ]),
    );
    expect((err as Error).message).toContain(`has ${problems.length} problems`);
  });

  it('rejects a non-object, duplicate tables and a primary_key naming no column', () => {
    expect(checkRelationshipsJson([], 'x').problems).toEqual([
      '(top level) must be a JSON object with primary_keys, relationships and optionally file_layouts',
    ]);
    const cols = [{ name: 'A', start: 0, width: 2 }];
    const result = checkRelationshipsJson(
      {
        file_layouts: {
          'ONE.DAT': { table_name: 'DF_1', columns: cols, primary_key: 'B' },
          'TWO.DAT': { table_name: 'DF_1', columns: cols, field_mapping: { A: 'x' } },
          'THREE.csv': { table_name: 'ST', columns: [{ name: 'STKEY' }], encoding: 'klingon', mode: 'sometimes' },
        },
      },
      'x',
    );
    expect(result.problems).toEqual(
      expect.arrayContaining([
        'file_layouts["ONE.DAT"].primary_key names unknown column "B"',
        'file_layouts["TWO.DAT"].table_name defines table DF again (already defined by file_layouts["ONE.DAT"])',
        'file_layouts["THREE.csv"].encoding must be an encoding Node can decode (windows-1252, utf-8, …)',
        'file_layouts["THREE.csv"].mode must be "full" or "delta"',
      ]),
    );
  });

  it("refuses view, column and field names that collide with cases-etl's own or with each other", () => {
    const cols = (...names: string[]) => names.map((name, i) => ({ name, start: i * 2, width: 2 }));
    const long = 'C'.repeat(64);
    const result = checkRelationshipsJson(
      {
        file_layouts: {
          'A.DAT': { table_name: 'DF_1', columns: cols('K', 'N'), view: 'etl_runs', field_mapping: { K: 'id' } },
          'B.DAT': { table_name: 'SF_1', columns: cols('K'), view: 'cases_sf', field_mapping: { K: 'id' } },
          'C.DAT': { table_name: 'UM_1', columns: cols('K'), view: 'students', field_mapping: { K: 'id' } },
          'D.DAT': { table_name: 'KGC_1', columns: cols('K'), view: 'families2', field_mapping: { K: 'id' } },
          'E.DAT': { table_name: 'KCY_1', columns: cols('K'), view: 'Families2', field_mapping: { K: 'id' } },
          'F.DAT': {
            table_name: 'SU_1',
            columns: cols('K', 'SCHOOL_ID', '_hash', long),
            field_mapping: { K: 'schoolid', SCHOOL_ID: 'Active' },
          },
          'etl_changes.DAT': { table_name: 'SM_1', columns: cols('K'), field_mapping: { K: 'id' } },
          'H.DAT': {
            table_name: 'KSF_1',
            columns: cols('K'),
            view: 'current_students',
            field_mapping: { K: 'school_id' },
          },
          'G.DAT': {
            table_name: 'TH_1',
            columns: cols('K'),
            view: 'v'.repeat(64),
            field_mapping: { K: 'f'.repeat(64) },
          },
        },
      },
      'x',
    );
    expect(result.file).toBeNull();
    expect(result.problems).toEqual(
      expect.arrayContaining([
        'file_layouts["A.DAT"].view view "etl_runs" starts with etl_, which is reserved for cases-etl\'s own tables; choose another view name',
        'file_layouts["B.DAT"].view view "cases_sf" starts with cases_, which is reserved for cases-etl\'s own tables; choose another view name',
        'file_layouts["C.DAT"].view view "students" is the built-in view of table ST, not UM; choose another view name',
        'file_layouts["E.DAT"].view view "Families2" is already the view of file_layouts["D.DAT"]',
        'file_layouts["F.DAT"].columns[1].name "SCHOOL_ID" is a reserved name: school_id and names starting with _ are the loader\'s own columns',
        'file_layouts["F.DAT"].columns[2].name "_hash" is a reserved name: school_id and names starting with _ are the loader\'s own columns',
        `file_layouts["F.DAT"].columns[3].name is 64 bytes long; names may be at most 63 bytes (PostgreSQL's limit)`,
        'file_layouts["F.DAT"].field_mapping.K maps to "schoolid", which every view has already (school_id, schoolId, active)',
        'file_layouts["F.DAT"].field_mapping.SCHOOL_ID maps to "Active", which every view has already (school_id, schoolId, active)',
        'file_layouts["H.DAT"].view view "current_students" is the built-in view of table ST, not KSF; choose another view name',
        'file_layouts["H.DAT"].field_mapping.K maps to "school_id", which every view has already (school_id, schoolId, active)',
        'file_layouts["etl_changes.DAT"] has no "view", so its view is named "etl_changes" after its file; that name starts with etl_, which is reserved for cases-etl\'s own tables; choose another view name',
        `file_layouts["G.DAT"].view view "${'v'.repeat(64)}" is 64 bytes long; names may be at most 63 bytes (PostgreSQL's limit)`,
        `file_layouts["G.DAT"].field_mapping.K maps to a name that is 64 bytes long; names may be at most 63 bytes (PostgreSQL's limit)`,
      ]),
    );
    // A layout may take its own table's built-in view name: it replaces that view, as documented.
    const own = checkRelationshipsJson(
      {
        file_layouts: {
          'S.DAT': { table_name: 'ST_1', columns: cols('STKEY'), view: 'students', field_mapping: { STKEY: 'id' } },
        },
      },
      'x',
    );
    expect(own.problems).toEqual([]);
  });

  it('throws ETL_LAYOUT_INVALID with the JSON path for a view named after a ledger table', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const path = join(dir, 'relationships.json');
      const layout = {
        table_name: 'SF_8865',
        columns: [{ name: 'SFKEY', start: 0, width: 4 }],
        view: 'etl_runs',
        field_mapping: { SFKEY: 'id' },
      };
      await writeFile(
        path,
        JSON.stringify({ primary_keys: {}, relationships: [], file_layouts: { 'STAFF.DAT': layout } }),
      );
      const err = await readRelationshipsJson(path).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'ETL_LAYOUT_INVALID' });
      expect((err as EtlError).problems).toEqual([
        expect.stringMatching(/^file_layouts\["STAFF\.DAT"\]\.view view "etl_runs" starts with etl_/),
      ]);
    } finally {
      await cleanup();
    }
  });

  it('formats JSON paths the way people write them', () => {
    expect(formatJsonPath(['file_layouts', 'STUDENT.DAT', 'columns', 3, 'width'])).toBe(
      'file_layouts["STUDENT.DAT"].columns[3].width',
    );
    expect(formatJsonPath(['primary_keys', 'ST_8865'])).toBe('primary_keys.ST_8865');
    expect(formatJsonPath([])).toBe('(top level)');
  });
});

describe('file layouts and key resolution', () => {
  it("takes the seed's fixed-width layout: file, table, types, mapping and key", async () => {
    const registry = await loadLayouts(fixture('fixed', 'relationships.json'));
    const df = registry.layoutForFileName('student.dat');
    expect(df).toMatchObject({
      table: 'DF',
      tableName: 'DF_8865',
      format: 'fixed',
      origin: 'relationships',
      primaryKey: ['CASES_KEY'],
    });
    expect(df?.columns.map((c) => [c.name, c.type, c.start, c.width])).toEqual([
      ['CASES_KEY', 'string', 0, 10],
      ['SURNAME', 'string', 10, 20],
      ['FIRST_NAME', 'string', 30, 15],
      ['BIRTHDATE', 'date', 45, 8],
      ['STATUS', 'string', 53, 4],
    ]);
    expect(df?.columns[0]?.required).toBe(true);
    expect(df?.fieldMapping).toMatchObject({ CASES_KEY: 'studentId', FIRST_NAME: 'givenNames' });
    // The user layout wins over the built-in DF (families) layout for table DF.
    expect(registry.layoutFor('DF_8865')).toBe(df);
  });

  it('follows the key rule: own key, built-in key, profile first column, <TABLE>KEY, TID, else a clear error', () => {
    const layout = (table_name: string, columns: string[], extra: Record<string, unknown> = {}) => ({
      table_name,
      columns: columns.map((name, i) => ({ name, start: i * 10, width: 10 })),
      ...extra,
    });
    const file = checkRelationshipsJson(
      {
        primary_keys: {
          DF_8865: ['CASES_KEY', 'DFKEY'],
          XX_8865: ['TID', 'CODE'],
          YY_8865: ['YYKEY', 'TID'],
          ZZ_8865: ['CODE'],
          WW_8865: ['WWKEY', 'CODE'],
          VV_8865: ['VVKEY'],
        },
        file_layouts: {
          'OWN.DAT': layout('SU_8865', ['CODE', 'NAME'], { primary_key: ['CODE'] }),
          'BUILTIN.DAT': layout('SF_8865', ['SURNAME', 'SFKEY']),
          'FIRST.DAT': layout('DF_8865', ['CASES_KEY', 'SURNAME', 'DFKEY']),
          'TID.DAT': layout('XX_8865', ['NAME', 'TID']),
          'TABLEKEY.DAT': layout('YY_8865', ['NAME', 'TID', 'YYKEY']),
          'FIRSTWINS.DAT': layout('WW_8865', ['CODE', 'WWKEY']),
          'NONE.DAT': layout('ZZ_8865', ['NAME', 'CODE']),
        },
      },
      'test.json',
    );
    expect(file.problems).toEqual([]);
    const registry = createLayoutRegistry(file.file);
    const rule = (t: string) => [registry.layoutFor(t)?.primaryKey, registry.layoutFor(t)?.keyRule];
    expect(rule('SU')).toEqual([['CODE'], 'layout']);
    // The built-in key comes before the profile, even when another column is first.
    expect(rule('SF')).toEqual([['SFKEY'], 'builtin']);
    // DF's built-in key DFKEY is in the layout, so it wins over the profile's first column CASES_KEY.
    expect(rule('DF')).toEqual([['DFKEY'], 'builtin']);
    expect(rule('WW')).toEqual([['CODE'], 'profile-first-column']);
    expect(rule('YY')).toEqual([['YYKEY'], 'table-key']);
    expect(rule('XX')).toEqual([['TID'], 'tid']);
    // A profile-only table has no columns to be first: <TABLE>KEY decides.
    expect(rule('VV')).toEqual([['VVKEY'], 'table-key']);
    expect(rule('ZZ')).toEqual([null, null]);
    expect(registry.layoutFor('ZZ')?.keyProblem).toContain(
      'table ZZ (relationships.json file_layouts["NONE.DAT"]) has no primary key',
    );
    expect(registry.layoutFor('ZZ')?.keyProblem).toContain(
      "its first column NAME is not among the profile's unique columns",
    );
    expect(registry.layoutFor('ZZ')?.keyProblem).toContain('unique columns for ZZ are CODE');
    expect(registry.layoutFor('ZZ')?.keyProblem).toContain('Add "primary_key"');
  });

  it("infers the seed example's key from its first column, CASES_KEY, which the school's profile lists for DF_8865", async () => {
    const real = await readRelationshipsJson(fixture('relationships.json'));
    const registry = createLayoutRegistry({ ...real, fileLayouts: { 'STUDENT.DAT': SEED_EXAMPLE } });
    const df = registry.layoutForFileName('STUDENT.DAT');
    expect(df).toMatchObject({
      table: 'DF',
      origin: 'relationships',
      primaryKey: ['CASES_KEY'],
      keyRule: 'profile-first-column',
      keyProblem: null,
    });
    // Without the profile there is nothing to infer from: the clear error of old.
    const bare = createLayoutRegistry({
      path: 'x.json',
      primaryKeys: {},
      relationships: [],
      fileLayouts: { 'STUDENT.DAT': SEED_EXAMPLE },
    });
    expect(bare.layoutForFileName('STUDENT.DAT')).toMatchObject({ primaryKey: null, keyRule: null });
    expect(bare.layoutForFileName('STUDENT.DAT')?.keyProblem).toContain('has no primary key');
  });

  it('reads a fixed-width user layout as its own file: untyped columns are text as wide as the field', async () => {
    const real = await readRelationshipsJson(fixture('relationships.json'));
    const registry = createLayoutRegistry({ ...real, fileLayouts: { 'STUDENT.DAT': SEED_EXAMPLE } });
    const columns = registry.layoutForFileName('STUDENT.DAT')?.columns ?? [];
    // eduHub's DF.HOMEKEY is a whole number and DF has no DOB; the seed's file decides.
    expect(columns.map((c) => [c.name, c.type, c.maxLength, c.required])).toEqual([
      ['CASES_KEY', 'string', 10, true],
      ['SURNAME', 'string', 30, false],
      ['GIVEN_NAMES', 'string', 30, false],
      ['DOB', 'string', 8, false],
      ['SEX', 'string', 1, false],
      ['HOMEKEY', 'string', 10, false],
      ['HOUSE', 'string', 10, false],
      ['YEAR_LEVEL', 'string', 2, false],
      ['EMAIL', 'string', 100, false],
      ['TELEPHONE', 'string', 20, false],
    ]);
    expect(columns.every((c) => c.references === null && c.description === null)).toBe(true);
    // A column that says its type keeps it; a CSV user layout of the same table still inherits.
    const typed = checkRelationshipsJson(
      {
        file_layouts: {
          'STUDENT.DAT': {
            ...SEED_EXAMPLE,
            columns: SEED_EXAMPLE.columns.map((c) =>
              c.name === 'DOB' ? { ...c, type: 'date', format: 'yyyymmdd' } : c,
            ),
          },
          'SF.csv': { table_name: 'SF_8865', columns: [{ name: 'SFKEY' }, { name: 'HOMEKEY' }] },
        },
      },
      'x.json',
    );
    const both = createLayoutRegistry(typed.file);
    expect(both.layoutForFileName('STUDENT.DAT')?.columns.find((c) => c.name === 'DOB')).toMatchObject({
      type: 'date',
      format: 'yyyymmdd',
      maxLength: null,
    });
    expect(both.layoutFor('SF')?.columns.find((c) => c.name === 'HOMEKEY')?.type).toBe('int');
  });
});

describe("the seed's built-in .DAT layouts", () => {
  it('are found by file name, never in place of the eduHub table of the same name', async () => {
    const registry = await loadLayouts(null);
    expect(registry.seedDat.map((l) => [l.filename, l.table, l.tableName, l.primaryKey, l.required, l.origin])).toEqual(
      [
        ['STUDENT.DAT', 'DF', 'DF_8865', ['CASES_KEY'], true, 'builtin'],
        ['STAFF.DAT', 'SF', 'SF_8865', ['SFKEY'], true, 'builtin'],
        [
          'ENROL.DAT',
          'ENROL',
          'ENROL_8865',
          ['CASES_KEY', 'CLASS_CODE', 'PERIOD', 'YEAR', 'SEMESTER'],
          true,
          'builtin',
        ],
        ['PARENT.DAT', 'PARENT', 'PARENT_8865', ['PARENT_KEY'], true, 'builtin'],
      ],
    );
    expect(registry.seedDatTables).toEqual(['DF', 'SF', 'ENROL', 'PARENT']);
    expect(registry.layoutForFileName('student.dat')?.format).toBe('fixed');
    // eduHub's DF_8865.csv is still the families table.
    expect(registry.layoutFor('DF')).toMatchObject({ format: 'csv', primaryKey: ['DFKEY'], origin: 'builtin' });
    expect(tableForFile('DF_8865.csv', registry, null)?.layout.format).toBe('csv');
    expect(registry.tables.has('ENROL')).toBe(false);
    // The seed school's site in table_name is not this folder's: the school id must come from outside.
    expect(tableForFile('STUDENT.DAT', registry, null)).toMatchObject({ site: null });
    expect(tableForFile('STUDENT.DAT', registry, '1234')).toMatchObject({ tableId: 'DF_1234', site: '1234' });
  });

  it('give way to a file_layouts entry for the same file name', async () => {
    const registry = await loadLayouts(fixture('fixed', 'relationships.json'));
    expect(registry.layoutForFileName('STUDENT.DAT')).toMatchObject({ origin: 'relationships', tableName: 'DF_8865' });
    expect(registry.seedDat.map((l) => l.filename)).toEqual(['STAFF.DAT', 'ENROL.DAT', 'PARENT.DAT']);
    expect(registry.seedDatTables).toEqual(['DF', 'SF', 'ENROL', 'PARENT']);
  });
});

describe('table names both ways', () => {
  it('maps eduHub and fixed-width file names to table ids and back', async () => {
    const registry = await loadLayouts(fixture('fixed', 'relationships.json'));
    expect(tableForFile('ST_8865.csv', registry, null)).toMatchObject({
      tableId: 'ST_8865',
      site: '8865',
      mode: 'full',
    });
    expect(tableForFile('st_0123_d.CSV', registry, null)).toMatchObject({
      tableId: 'ST_0123',
      site: '0123',
      mode: 'delta',
    });
    expect(tableForFile('STUDENT.DAT', registry, null)).toMatchObject({ tableId: 'DF_8865', site: '8865' });
    expect(tableForFile('Student.dat', registry, '1234')).toMatchObject({ tableId: 'DF_1234', site: '1234' });
    expect(tableForFile('README.txt', registry, null)).toBeNull();
    expect(tableForFile('NOPE_8865.csv', registry, null)).toBeNull();
    expect(fileNameForTable('DF_8865', registry)).toBe('STUDENT.DAT');
    expect(fileNameForTable('ST_8865', registry)).toBe('ST_8865.csv');
    expect(fileNameForTable('ST_8865', registry, 'delta')).toBe('ST_8865_D.csv');
    expect(fileNameForTable('NOPE_8865', registry)).toBeNull();
  });
});
