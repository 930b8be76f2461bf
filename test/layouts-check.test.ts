import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { generateSchool } from '../src/generate/index.js';
import { checkFixedFile, createLayoutRegistry, readRelationshipsJson, type TableLayout } from '../src/layouts/index.js';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/fixtures.js';

/**
 * `layouts check` on a STUDENT.DAT in the seed's example layout: the right layout fits (exit 0);
 * one shifted by a character at a column is an error naming the column and the fix (exit 1);
 * short lines, unparsable dates and repeated keys are found with their line numbers.
 */

interface LayoutJson {
  file_layouts: Record<string, { columns: { name: string; start: number; width: number }[] }>;
}

let dir: string;
let cleanup: () => Promise<void>;
let relationships: LayoutJson;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('cases-etl-check-'));
  await generateSchool({ outDir: dir, format: 'fixed', fixedLayout: 'seed', seed: 3, students: 400 });
  relationships = JSON.parse(await readFile(join(dir, 'relationships.json'), 'utf8')) as LayoutJson;
});
afterAll(() => cleanup());

/** relationships.json with STUDENT.DAT's column `name` `by` characters wider and the next column moved. */
async function shifted(name: string, by: number): Promise<string> {
  const json = structuredClone(relationships);
  const columns = json.file_layouts['STUDENT.DAT']?.columns ?? [];
  const i = columns.findIndex((c) => c.name === name);
  const col = columns[i];
  const next = columns[i + 1];
  if (!col || !next) throw new Error(`no column after ${name}`);
  col.width += by;
  next.start += by;
  next.width -= by;
  const path = join(dir, `relationships-${name}-${by}.json`);
  await writeFile(path, JSON.stringify(json, null, 2));
  return path;
}

async function layoutFrom(path: string): Promise<TableLayout> {
  const layout = createLayoutRegistry(await readRelationshipsJson(path)).layoutForFileName('STUDENT.DAT');
  if (!layout) throw new Error('no STUDENT.DAT layout');
  return layout;
}

async function* linesOf(text: string): AsyncGenerator<string> {
  yield* text.split('\r\n').filter((l, i, all) => l !== '' || i < all.length - 1);
}

describe('cases-etl layouts check', () => {
  it('passes the layout the file was written with, and exits 0', async () => {
    const r = await runCli(['layouts', 'check', join(dir, 'STUDENT.DAT')], {
      CASES_RELATIONSHIPS_JSON: join(dir, 'relationships.json'),
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('line lengths: 221 × 400 (fits)');
    expect(r.stdout).toContain('The layout fits');
    expect(r.stdout).not.toMatch(/^error /m);
  });

  it('flags SURNAME one character too narrow, names it with the fix, and exits 1', async () => {
    const r = await runCli(['layouts', 'check', join(dir, 'STUDENT.DAT')], {
      CASES_RELATIONSHIPS_JSON: await shifted('SURNAME', -1),
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^error SURNAME: .*SURNAME looks one character too narrow/m);
    expect(r.stdout).toContain('fix: widen SURNAME to 30 and move GIVEN_NAMES to 40 (width 30)');
    expect(r.stdout).toMatch(/^ {2}lines 1, 2, 3, 4, 5, …$/m);
    expect(r.stdout).toContain('The layout does not fit: 1 error');
  });

  it("flags SURNAME one character too wide (its last letter is the next value's first) with --layout", async () => {
    const r = await runCli(['layouts', 'check', join(dir, 'STUDENT.DAT'), '--layout', 'STUDENT.DAT', '--json'], {
      CASES_RELATIONSHIPS_JSON: await shifted('SURNAME', 1),
    });
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout) as {
      fits: boolean;
      findings: { level: string; column: string; fix: string; message: string }[];
    };
    expect(json.fits).toBe(false);
    expect(json.findings).toEqual([
      expect.objectContaining({
        level: 'error',
        column: 'SURNAME',
        fix: 'narrow SURNAME to 30 and move GIVEN_NAMES to 40 (width 30)',
        message: expect.stringContaining("a letter at SURNAME's last position runs into GIVEN_NAMES") as string,
      }),
    ]);
  });

  it('flags a date column shifted by one: its values mostly fail to parse', async () => {
    const r = await runCli(['layouts', 'check', join(dir, 'STUDENT.DAT')], {
      CASES_RELATIONSHIPS_JSON: await shifted('GIVEN_NAMES', 1),
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^error DOB: 400 of 400 values are not a date \(yyyymmdd\)$/m);
  });

  it('refuses a file with no fixed-width layout with ETL_LAYOUT_UNKNOWN_TABLE', async () => {
    const r = await runCli(['layouts', 'check', join(dir, 'OTHER.DAT')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ETL_LAYOUT_UNKNOWN_TABLE');
    expect(r.stderr).toContain('layouts infer');
  });
});

describe('checkFixedFile', () => {
  it('passes every generated layout as written, and catches most one-character shifts at any boundary', async () => {
    let shifts = 0;
    let caught = 0;
    const missed: string[] = [];
    for (const [fixedLayout, seed] of [
      ['seed', 3],
      ['cases', 1],
      ['varied', 5],
      ['varied', 8],
    ] as const) {
      const out = join(dir, `${fixedLayout}-${seed}`);
      await generateSchool({ outDir: out, format: 'fixed', fixedLayout, seed, students: 400 });
      const json = JSON.parse(await readFile(join(out, 'relationships.json'), 'utf8')) as LayoutJson;
      for (const [file, layout] of Object.entries(json.file_layouts)) {
        const text = await readFile(join(out, file), 'latin1');
        const check = async (columns: LayoutJson['file_layouts'][string]['columns']) => {
          const path = join(out, 'check.json');
          await writeFile(path, JSON.stringify({ file_layouts: { [file]: { ...layout, columns } } }));
          const registry = createLayoutRegistry(await readRelationshipsJson(path));
          const own = registry.layoutForFileName(file);
          if (!own) throw new Error(`no layout for ${file}`);
          return checkFixedFile(linesOf(text), own);
        };
        const asWritten = await check(layout.columns);
        expect(asWritten.findings, `${fixedLayout}-${seed} ${file}`).toEqual([]);
        for (let i = 0; i + 1 < layout.columns.length; i++) {
          for (const by of [-1, 1]) {
            const columns = structuredClone(layout.columns);
            const [col, next] = [columns[i], columns[i + 1]];
            if (!col || !next || col.width + by < 1 || next.width - by < 1) continue;
            col.width += by;
            next.start += by;
            next.width -= by;
            shifts++;
            if (!(await check(columns)).fits) caught++;
            else missed.push(`${fixedLayout}-${seed} ${file} ${col.name}|${next.name} ${by > 0 ? '+1' : '-1'}`);
          }
        }
      }
    }
    // Some shifts only move padding (between text and a right-aligned number, say): no file can show them.
    console.log(`layouts check: caught ${caught}/${shifts} one-character shifts; missed: ${missed.join('; ')}`);
    expect(caught / shifts).toBeGreaterThanOrEqual(0.85);
  }, 120_000);

  it('finds short lines, values that are not dates and repeated keys, by line number, without values', async () => {
    const layout = await layoutFrom(join(dir, 'relationships.json'));
    const text = await readFile(join(dir, 'STUDENT.DAT'), 'latin1');
    const lines = text.split('\r\n').slice(0, 20);
    const first = lines[0] ?? '';
    lines[3] = first; // line 4 repeats line 1's key
    lines[6] = `${(lines[6] ?? '').slice(0, 70)}31/02/20${(lines[6] ?? '').slice(78)}`; // line 7: DOB not YYYYMMDD
    lines[9] = (lines[9] ?? '').slice(0, 150); // line 10 cut short
    const report = await checkFixedFile(linesOf(lines.join('\r\n')), layout);
    expect(report.fits).toBe(false);
    expect(report.lines).toBe(20);
    expect(report.lengths).toEqual([
      [221, 19],
      [150, 1],
    ]);
    const byKind = Object.fromEntries(report.findings.map((f) => [f.kind, f]));
    expect(byKind['line-length']).toMatchObject({ level: 'error', lines: [10], count: 1 });
    expect(byKind.parse).toMatchObject({ level: 'warning', column: 'DOB', lines: [7], count: 1 });
    expect(byKind['duplicate-key']).toMatchObject({ level: 'error', column: 'CASES_KEY', lines: [4] });
    const surname = first.slice(10, 40).trim();
    expect(JSON.stringify(report)).not.toContain(surname);
  });
});
