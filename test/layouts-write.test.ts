import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { isEtlError } from '../src/errors/index.js';
import { generateSchool } from '../src/generate/index.js';
import { mergeFileLayout, readRelationshipsJson } from '../src/layouts/index.js';
import { runCli } from './helpers/cli.js';
import { fixture, tempDir } from './helpers/fixtures.js';

/**
 * `layouts infer --write`: the entry is spliced into relationships.json and nothing else moves.
 * The school's real file (test/fixtures/relationships.json, 1,130 relationships, no
 * file_layouts) keeps every byte outside the added entry.
 */

const ENTRY = {
  filename: 'STUDENT.DAT',
  table_name: 'DF_8865',
  primary_key: ['CASES_KEY'],
  columns: [
    { name: 'CASES_KEY', start: 0, width: 10, type: 'string' },
    { name: 'DOB', start: 10, width: 8, type: 'date', format: 'yyyymmdd' },
  ],
};

/** The text added between the common prefix and the common suffix of `a` and `b`. */
function difference(a: string, b: string): { prefix: number; suffix: number; added: string; removed: string } {
  let prefix = 0;
  while (prefix < a.length && a[prefix] === b[prefix]) prefix++;
  let suffix = 0;
  while (suffix < a.length - prefix && a[a.length - 1 - suffix] === b[b.length - 1 - suffix]) suffix++;
  return { prefix, suffix, added: b.slice(prefix, b.length - suffix), removed: a.slice(prefix, a.length - suffix) };
}

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir('cases-etl-write-')));
afterAll(() => cleanup());

describe('mergeFileLayout', () => {
  it("adds file_layouts to the school's real relationships.json, byte for byte outside the entry", async () => {
    const original = await readFile(fixture('relationships.json'), 'utf8');
    const merged = mergeFileLayout(original, 'STUDENT.DAT', ENTRY);
    const d = difference(original, merged);
    expect(d.removed).toBe('');
    expect(d.added.startsWith(',\n  "file_layouts": {\n    "STUDENT.DAT": {\n      "filename": "STUDENT.DAT",')).toBe(
      true,
    );
    expect(original.slice(0, d.prefix) + d.added + original.slice(original.length - d.suffix)).toBe(merged);
    const json = JSON.parse(merged) as { relationships: unknown[]; primary_keys: object; file_layouts: object };
    const before = JSON.parse(original) as { relationships: unknown[]; primary_keys: object };
    expect(json.relationships).toHaveLength(1130);
    expect(json.relationships).toEqual(before.relationships);
    expect(Object.keys(json)).toEqual([...Object.keys(before), 'file_layouts']);
    expect(json.file_layouts).toEqual({ 'STUDENT.DAT': ENTRY });

    // Writing it again replaces the entry in place; a changed entry changes only its own text.
    expect(mergeFileLayout(merged, 'STUDENT.DAT', ENTRY)).toBe(merged);
    const wider = { ...ENTRY, columns: [{ ...ENTRY.columns[0], width: 9 }, ENTRY.columns[1]] };
    const again = difference(merged, mergeFileLayout(merged, 'STUDENT.DAT', wider));
    expect(again.removed).toBe('10');
    expect(again.added).toBe('9');
  });

  it("adds after the other layouts, in the file's own indentation and line endings", () => {
    const text =
      '{\r\n\t"primary_keys": {},\r\n\t"file_layouts": {\r\n\t\t"STAFF.DAT": {"table_name": "SF", "columns": [{"name": "SFKEY", "start": 0, "width": 4}]}\r\n\t}\r\n}\r\n';
    const merged = mergeFileLayout(text, 'STUDENT.DAT', ENTRY);
    const d = difference(text, merged);
    expect(d.removed).toBe('');
    expect(d.added.startsWith(',\r\n\t\t"STUDENT.DAT": {\r\n\t\t\t"filename": "STUDENT.DAT",\r\n')).toBe(true);
    expect(d.added.includes('\n') && !/[^\r]\n/.test(d.added)).toBe(true);
    expect(Object.keys((JSON.parse(merged) as { file_layouts: object }).file_layouts)).toEqual([
      'STAFF.DAT',
      'STUDENT.DAT',
    ]);
  });

  it('refuses text that is not JSON, and an entry the checks of a load reject, with ETL_LAYOUT_WRITE_INVALID', () => {
    const code = (f: () => unknown): string | null => {
      try {
        f();
        return null;
      } catch (err) {
        return isEtlError(err) ? `${err.code}: ${err.message}` : String(err);
      }
    };
    expect(code(() => mergeFileLayout('{"primary_keys": {', 'STUDENT.DAT', ENTRY))).toMatch(
      /^ETL_LAYOUT_WRITE_INVALID: .*not a JSON object/,
    );
    const overlapping = { ...ENTRY, columns: [...ENTRY.columns, { name: 'SEX', start: 15, width: 1 }] };
    expect(code(() => mergeFileLayout('{"primary_keys": {}}', 'STUDENT.DAT', overlapping))).toMatch(
      /^ETL_LAYOUT_WRITE_INVALID: .*\n.*file_layouts\["STUDENT.DAT"\]\.columns\[2\] \("SEX", characters 15-15\) overlaps/s,
    );
  });
});

describe('cases-etl layouts infer --write', () => {
  it("merges the inferred entry into a copy of the school's relationships.json, which then loads and checks", async () => {
    await generateSchool({ outDir: dir, format: 'fixed', fixedLayout: 'seed', seed: 4, students: 300 });
    const path = join(dir, 'school-relationships.json');
    await copyFile(fixture('relationships.json'), path);
    const original = await readFile(path, 'utf8');
    const r = await runCli(['layouts', 'infer', join(dir, 'STUDENT.DAT'), '--write', path]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Wrote file_layouts["STUDENT.DAT"] into ${path}`);
    const merged = await readFile(path, 'utf8');
    const d = difference(original, merged);
    expect(d.removed).toBe('');
    expect(d.prefix).toBe(original.lastIndexOf(']') + 1);
    const file = await readRelationshipsJson(path);
    expect(file.relationships).toHaveLength(1130);
    expect(file.fileLayouts['STUDENT.DAT']?.columns.map((c) => c.name)).toContain('GIVEN_NAMES');

    const check = await runCli(['layouts', 'check', join(dir, 'STUDENT.DAT')], { CASES_RELATIONSHIPS_JSON: path });
    expect(check.code).toBe(0);
    expect(check.stdout).toContain('The layout fits');
  });

  it('leaves a file that is not JSON untouched', async () => {
    const path = join(dir, 'broken.json');
    await writeFile(path, '{"primary_keys": ');
    const r = await runCli(['layouts', 'infer', join(dir, 'STUDENT.DAT'), '--write', path]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ETL_LAYOUT_WRITE_INVALID');
    expect(await readFile(path, 'utf8')).toBe('{"primary_keys": ');
  });
});
