import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import iconv from 'iconv-lite';
import Papa from 'papaparse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { isEtlError } from '../src/errors/index.js';
import { generateSchool, writeStudentsFile, type GeneratedFile } from '../src/generate/index.js';
import {
  checkRelationshipsJson,
  createLayoutRegistry,
  loadBuiltinLayouts,
  tableForFile,
} from '../src/layouts/index.js';

/**
 * The fixed-width flavour (STUDENT.DAT, STAFF.DAT and their relationships.json), the
 * single-file ST writer used for benchmarks, and option checking.
 */

interface LayoutColumn {
  name: string;
  start: number;
  width: number;
  type?: string;
  format?: string;
}

interface FileLayout {
  filename: string;
  table_name: string;
  primary_key: string[];
  columns: LayoutColumn[];
  field_mapping: Record<string, string>;
}

let root: string;
let fixedDir: string;
let fixedFiles: GeneratedFile[];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cases-etl-generate-fixed-'));
  fixedDir = join(root, 'fixed');
  fixedFiles = (await generateSchool({ outDir: fixedDir, students: 600, seed: 7, format: 'fixed' })).files;
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Splits a fixed-width file into lines, checking every line ends with CRLF. */
function linesOf(raw: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let from = 0;
  for (let i = raw.indexOf(0x0a); i !== -1; i = raw.indexOf(0x0a, from)) {
    expect(raw[i - 1]).toBe(0x0d);
    lines.push(raw.subarray(from, i - 1));
    from = i + 1;
  }
  expect(from).toBe(raw.length);
  return lines;
}

describe('generateSchool (fixed width)', () => {
  it('writes STUDENT.DAT, STAFF.DAT and relationships.json', async () => {
    expect((await readdir(fixedDir)).sort()).toEqual(['STAFF.DAT', 'STUDENT.DAT', 'relationships.json']);
    expect(fixedFiles.map((f) => [f.name, f.table])).toEqual([
      ['STUDENT.DAT', 'DF'],
      ['STAFF.DAT', 'SF'],
      ['relationships.json', ''],
    ]);
    for (const f of fixedFiles) expect(f.bytes).toBe((await stat(join(fixedDir, f.name))).size);
    expect(fixedFiles[0]?.rows).toBe(600);
    expect(fixedFiles[1]?.rows).toBe(50);
  });

  it('describes the files in the seed shape, accepted by the layout checker', async () => {
    const json = JSON.parse(await readFile(join(fixedDir, 'relationships.json'), 'utf8')) as {
      file_layouts: Record<string, FileLayout>;
    };
    const checked = checkRelationshipsJson(json, 'relationships.json');
    expect(checked.problems).toEqual([]);
    const student = json.file_layouts['STUDENT.DAT'];
    expect(student?.table_name).toBe('DF_8865');
    expect(student?.primary_key).toEqual(['CASES_KEY']);
    expect(student?.field_mapping).toMatchObject({
      CASES_KEY: 'studentId',
      SURNAME: 'surname',
      FIRST_NAME: 'givenNames',
      BIRTHDATE: 'dob',
      GENDER: 'sex',
      STATUS: 'status',
    });
    expect(json.file_layouts['STAFF.DAT']?.table_name).toBe('SF_8865');
    if (!checked.file) throw new Error('unreachable');
    const registry = createLayoutRegistry(checked.file);
    expect(tableForFile('STUDENT.DAT', registry, null)?.tableId).toBe('DF_8865');
    expect(tableForFile('STAFF.DAT', registry, null)?.layout.primaryKey).toEqual(['SFKEY']);
  });

  it('writes every line exactly the record width, columns adjacent and non-overlapping', async () => {
    const json = JSON.parse(await readFile(join(fixedDir, 'relationships.json'), 'utf8')) as {
      file_layouts: Record<string, FileLayout>;
    };
    for (const [name, layout] of Object.entries(json.file_layouts)) {
      let expectedStart = 0;
      for (const c of layout.columns) {
        expect(c.start, `${name} ${c.name}`).toBe(expectedStart);
        expectedStart += c.width;
        if (c.type === 'date') expect(c.format).toBe('yyyymmdd');
      }
      const width = expectedStart;
      const raw = await readFile(join(fixedDir, name));
      expect(raw.includes(0x09)).toBe(false);
      const lines = linesOf(raw);
      expect(lines.length).toBe(fixedFiles.find((f) => f.name === name)?.rows);
      const keys = new Set<string>();
      for (const line of lines) {
        // Windows-1252 is one byte per character, so bytes and characters agree.
        expect(line.length, name).toBe(width);
        const text = iconv.decode(line, 'win1252');
        for (const c of layout.columns) {
          const v = text.slice(c.start, c.start + c.width).trim();
          if (c.type === 'date' && v !== '')
            expect(v, `${name} ${c.name}`).toMatch(/^(19|20)\d\d(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$/);
          if (c.type === 'int' && v !== '') expect(v).toMatch(/^\d+$/);
        }
        const keyCol = layout.columns.find((c) => c.name === layout.primary_key[0]);
        keys.add(text.slice(keyCol?.start ?? 0, (keyCol?.start ?? 0) + (keyCol?.width ?? 0)).trim());
      }
      expect(keys.size, `${name} keys unique`).toBe(lines.length);
    }
  });

  it('lists the same students as the eduHub ST file for the same seed', async () => {
    const csvDir = join(root, 'csv');
    await generateSchool({ outDir: csvDir, students: 600, seed: 7 });
    const st = Papa.parse<Record<string, string>>(
      iconv.decode(await readFile(join(csvDir, 'ST_8865.csv')), 'win1252'),
      { header: true, newline: '\r\n', skipEmptyLines: true },
    );
    const dat = linesOf(await readFile(join(fixedDir, 'STUDENT.DAT'))).map((l) => iconv.decode(l, 'win1252'));
    expect(dat.map((l) => l.slice(0, 10).trim())).toEqual(st.data.map((r) => r.STKEY));
    expect(dat.map((l) => l.slice(10, 40).trim())).toEqual(st.data.map((r) => r.SURNAME));
  });
});

describe('generateSchool (other fixed-width layouts)', () => {
  const layoutOf = async (dir: string): Promise<Record<string, FileLayout>> =>
    (
      JSON.parse(await readFile(join(dir, 'relationships.json'), 'utf8')) as {
        file_layouts: Record<string, FileLayout>;
      }
    ).file_layouts;

  it("'seed' writes the seed's example layout: the columns and positions of data/seed-dat-layouts.json", async () => {
    const dir = join(root, 'seed-layout');
    await generateSchool({ outDir: dir, students: 50, seed: 2, format: 'fixed', fixedLayout: 'seed' });
    const seedDat = JSON.parse(await readFile(new URL('../data/seed-dat-layouts.json', import.meta.url), 'utf8')) as {
      file_layouts: Record<string, FileLayout>;
    };
    const written = await layoutOf(dir);
    for (const file of ['STUDENT.DAT', 'STAFF.DAT']) {
      const strip = (l: FileLayout | undefined) => l?.columns.map((c) => [c.name, c.start, c.width]);
      expect(strip(written[file]), file).toEqual(strip(seedDat.file_layouts[file]));
      const width = written[file]?.columns.reduce((w, c) => Math.max(w, c.start + c.width), 0) ?? 0;
      for (const line of linesOf(await readFile(join(dir, file)))) expect(line.length).toBe(width);
    }
  });

  it("'varied' draws the order and widths from the seed: the same seed, the same bytes", async () => {
    const [a, b, c] = [join(root, 'varied-a'), join(root, 'varied-b'), join(root, 'varied-c')];
    await generateSchool({ outDir: a, students: 80, seed: 9, format: 'fixed', fixedLayout: 'varied' });
    await generateSchool({ outDir: b, students: 80, seed: 9, format: 'fixed', fixedLayout: 'varied' });
    await generateSchool({ outDir: c, students: 80, seed: 10, format: 'fixed', fixedLayout: 'varied' });
    for (const file of ['STUDENT.DAT', 'STAFF.DAT', 'relationships.json'])
      expect((await readFile(join(a, file))).equals(await readFile(join(b, file))), file).toBe(true);
    const [la, lc] = [await layoutOf(a), await layoutOf(c)];
    expect(la['STUDENT.DAT']?.columns).not.toEqual(lc['STUDENT.DAT']?.columns);
    // The key first, the whole numbers side by side, every column adjacent.
    const student = la['STUDENT.DAT']?.columns ?? [];
    expect(student[0]?.name).toBe('CASES_KEY');
    const ints = student.map((col, i) => (col.type === 'int' ? i : -1)).filter((i) => i >= 0);
    expect(ints).toHaveLength(3);
    expect((ints.at(-1) ?? 0) - (ints[0] ?? 0)).toBe(2);
    let start = 0;
    for (const col of student) {
      expect(col.start).toBe(start);
      start += col.width;
    }
    const err: unknown = await generateSchool({ outDir: join(root, 'never-2'), fixedLayout: 'odd' as 'seed' }).catch(
      (e: unknown) => e,
    );
    expect(isEtlError(err, 'ETL_USAGE')).toBe(true);
  });
});

describe('writeStudentsFile', () => {
  it('streams a valid ST file with unique keys near 370 bytes a row', async () => {
    const path = join(root, 'st-bench.csv');
    const rows = 20_000;
    const file = await writeStudentsFile(path, { rows, seed: 3 });
    expect(file).toMatchObject({ name: 'st-bench.csv', table: 'ST', rows });
    const raw = await readFile(path);
    expect(file.bytes).toBe(raw.length);
    const parsed = Papa.parse<string[]>(iconv.decode(raw, 'win1252'), { newline: '\r\n', skipEmptyLines: true });
    expect(parsed.errors).toEqual([]);
    const [header = [], ...records] = parsed.data;
    expect(header).toEqual(
      loadBuiltinLayouts()
        .get('ST')
        ?.columns.map((c) => c.name),
    );
    expect(records).toHaveLength(rows);
    const at = (name: string): number => header.indexOf(name);
    const keys = new Set(records.map((r) => r[at('STKEY')]));
    const registrations = new Set(records.map((r) => r[at('REGISTRATION')]));
    expect(keys.size).toBe(rows);
    expect(registrations.size).toBe(rows);
    for (const k of keys) expect((k ?? '').length).toBeLessThanOrEqual(10);
    const perRow = file.bytes / rows;
    expect(perRow).toBeGreaterThan(330);
    expect(perRow).toBeLessThan(410);
    // Same seed, same bytes.
    const again = join(root, 'st-bench-2.csv');
    await writeStudentsFile(again, { rows, seed: 3 });
    expect((await readFile(again)).equals(raw)).toBe(true);
  });

  it('writes a header-only file for zero rows', async () => {
    const path = join(root, 'st-empty.csv');
    const file = await writeStudentsFile(path, { rows: 0 });
    expect(file.rows).toBe(0);
    expect((await readFile(path, 'latin1')).split('\r\n')).toEqual([expect.stringMatching(/^STKEY,SURNAME,/), '']);
  });
});

describe('option checks', () => {
  it('rejects bad options with ETL_USAGE before writing anything', async () => {
    const outDir = join(root, 'never');
    for (const bad of [{ school: '88/65' }, { school: '' }, { students: 0 }, { students: 1.5 }, { seed: Number.NaN }]) {
      const err: unknown = await generateSchool({ outDir, ...bad }).catch((e: unknown) => e);
      expect(isEtlError(err, 'ETL_USAGE'), JSON.stringify(bad)).toBe(true);
    }
    await expect(readdir(outDir)).rejects.toThrow();
    const err: unknown = await writeStudentsFile(join(root, 'x.csv'), { rows: -1 }).catch((e: unknown) => e);
    expect(isEtlError(err, 'ETL_USAGE')).toBe(true);
  });
});
