import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import iconv from 'iconv-lite';
import Papa from 'papaparse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { BUILTIN_SCHEMAS_PATH, loadBuiltinLayouts, type TableLayout } from '../src/layouts/index.js';
import { EDUHUB_TABLES, generateSchool, type GeneratedFile } from '../src/generate/index.js';

/**
 * The eduHub sample school, checked the way the ETL will read it: real files in a temp folder,
 * decoded as Windows-1252 with iconv-lite and parsed with papaparse, independently of the
 * generator's own code.
 */

const SCHOOL = '8865';
const STUDENTS = 1500;

interface Table {
  readonly layout: TableLayout;
  readonly raw: Buffer;
  readonly text: string;
  readonly header: string[];
  readonly rows: Record<string, string>[];
  readonly records: string[][];
}

interface SchemaFile {
  [table: string]: { uniqueKeys: string[][]; fields: { name: string; textCase?: string }[] };
}

let root: string;
let dirA: string;
let files: GeneratedFile[];
const tables = new Map<string, Table>();

function parseCsv(text: string): string[][] {
  const result = Papa.parse<string[]>(text, { delimiter: ',', newline: '\r\n', quoteChar: '"', skipEmptyLines: false });
  expect(result.errors).toEqual([]);
  const data = result.data;
  // The file ends with CRLF, which papaparse reports as one last empty record.
  const last = data[data.length - 1];
  if (last && last.length === 1 && last[0] === '') data.pop();
  return data;
}

async function readTable(dir: string, table: string): Promise<Table> {
  const layout = loadBuiltinLayouts().get(table);
  if (!layout) throw new Error(`no layout ${table}`);
  const raw = await readFile(join(dir, `${table}_${SCHOOL}.csv`));
  const text = iconv.decode(raw, 'win1252');
  const [header = [], ...records] = parseCsv(text);
  const rows = records.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ''])));
  return { layout, raw, text, header, rows, records };
}

function table(name: string): Table {
  const t = tables.get(name);
  if (!t) throw new Error(`table ${name} not read`);
  return t;
}

const column = (name: string, col: string): string[] => table(name).rows.map((r) => r[col] ?? '');

/** `5/02/2019 12:00:00 AM` → milliseconds (UTC midnight), NaN when not a date. */
function timeOf(value: string | undefined): number {
  const [, d, m, y] = /^(\d{1,2})\/(\d{2})\/(\d{4}) /.exec(value ?? '') ?? [];
  return Date.UTC(Number(y), Number(m) - 1, Number(d));
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cases-etl-generate-'));
  dirA = join(root, 'a');
  files = (await generateSchool({ outDir: dirA, students: STUDENTS, seed: 1 })).files;
  for (const t of EDUHUB_TABLES) tables.set(t, await readTable(dirA, t));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('generateSchool (eduHub)', () => {
  it('writes one <TABLE>_<SCHOOL>.csv per table and reports rows and bytes truthfully', async () => {
    expect((await readdir(dirA)).sort()).toEqual(EDUHUB_TABLES.map((t) => `${t}_${SCHOOL}.csv`).sort());
    for (const f of files) {
      expect(f.name).toBe(`${f.table}_${SCHOOL}.csv`);
      expect(f.rows).toBe(table(f.table).rows.length);
      expect(f.bytes).toBe((await stat(join(dirA, f.name))).size);
    }
  });

  it('is deterministic: same options give byte-identical files, another seed differs', async () => {
    const dirB = join(root, 'b');
    const dirC = join(root, 'c');
    await generateSchool({ outDir: dirB, students: STUDENTS, seed: 1, school: SCHOOL });
    await generateSchool({ outDir: dirC, students: STUDENTS, seed: 2 });
    for (const t of EDUHUB_TABLES) {
      const name = `${t}_${SCHOOL}.csv`;
      expect((await readFile(join(dirB, name))).equals(table(t).raw), name).toBe(true);
    }
    expect((await readFile(join(dirC, `ST_${SCHOOL}.csv`))).equals(table('ST').raw)).toBe(false);
  });

  it('has every built-in column in each header, in declared order, CRLF-terminated', () => {
    for (const t of EDUHUB_TABLES) {
      const { layout, header, text, records } = table(t);
      expect(header, t).toEqual(layout.columns.map((c) => c.name));
      expect(text.startsWith(`${header.join(',')}\r\n`), t).toBe(true);
      expect(text.endsWith('\r\n'), t).toBe(true);
      for (const r of records) expect(r.length, t).toBe(header.length);
    }
  });

  it('quotes a field only when it holds a comma, quote, CR or LF, and writes nothing else', () => {
    const quote = (v: string): string => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
    for (const t of EDUHUB_TABLES) {
      const { header, records, text } = table(t);
      const rebuilt = [header, ...records].map((r) => `${r.map(quote).join(',')}\r\n`).join('');
      expect(rebuilt === text, t).toBe(true);
    }
  });

  it('keeps every value valid for its column type and length', () => {
    const datetime = /^([1-9]|[12]\d|3[01])\/(0[1-9]|1[0-2])\/(\d{4}) ([1-9]|1[0-2]):([0-5]\d):([0-5]\d) (AM|PM)$/;
    const problems: string[] = [];
    for (const t of EDUHUB_TABLES) {
      const { layout, rows } = table(t);
      for (const [n, row] of rows.entries()) {
        for (const col of layout.columns) {
          const v = row[col.name] ?? '';
          const bad = (why: string): number =>
            problems.push(`${t} row ${n + 1} ${col.name}=${JSON.stringify(v)}: ${why}`);
          if (v === '') {
            if (col.required) bad('required');
            continue;
          }
          switch (col.type) {
            case 'string':
            case 'flag':
              if (col.maxLength !== null && v.length > col.maxLength) bad(`longer than ${col.maxLength}`);
              break;
            case 'smallint':
            case 'int': {
              const [lo, hi] = col.type === 'smallint' ? [-32768, 32767] : [-2147483648, 2147483647];
              if (!/^-?\d+$/.test(v) || Number(v) < lo || Number(v) > hi) bad(`not a ${col.type}`);
              break;
            }
            case 'decimal':
              if (!/^-?\d+\.\d{2}$/.test(v)) bad('not money');
              break;
            case 'float':
              if (!/^-?\d+(\.\d+)?$/.test(v)) bad('not a float');
              break;
            case 'datetime': {
              const [, d, mo, y] = datetime.exec(v) ?? [];
              const date = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
              if (d === undefined || date.getUTCDate() !== Number(d)) bad('not d/MM/yyyy h:mm:ss tt');
              break;
            }
            case 'bytes':
            case 'date':
              bad(`${col.type} columns must be empty`);
          }
        }
      }
    }
    expect(problems.slice(0, 20)).toEqual([]);
  });

  it('writes date-only fields at midnight', () => {
    for (const [t, cols] of [
      ['ST', ['BIRTHDATE', 'ENTRY', 'EXIT_DATE', 'DATELEFT', 'ARRIVAL']],
      ['SXAB', ['ABSENCE_DATE']],
      ['SF', ['BIRTHDATE', 'START']],
    ] as const) {
      for (const c of cols) for (const v of column(t, c)) if (v !== '') expect(v, `${t}.${c}`).toMatch(/ 12:00:00 AM$/);
    }
  });

  it('keeps primary and unique keys unique', async () => {
    const schema = JSON.parse(await readFile(BUILTIN_SCHEMAS_PATH, 'utf8')) as SchemaFile;
    for (const t of EDUHUB_TABLES) {
      for (const key of schema[t]?.uniqueKeys ?? []) {
        const seen = new Set<string>();
        for (const row of table(t).rows) {
          const parts = key.map((k) => row[k] ?? '');
          if (parts.some((p) => p === '')) continue;
          const id = parts.join('\u0000');
          expect(seen.has(id), `${t} (${key.join(', ')}) = ${parts.join(', ')} repeats`).toBe(false);
          seen.add(id);
        }
        expect(seen.size, `${t} ${key.join(',')}`).toBeGreaterThan(0);
      }
    }
  });

  it('resolves every reference to a generated table', () => {
    const generated = new Set<string>(EDUHUB_TABLES);
    const values = new Map<string, Set<string>>();
    const valuesOf = (ref: string): Set<string> => {
      let set = values.get(ref);
      if (!set) {
        const [t = '', c = ''] = ref.split('.');
        set = new Set(column(t, c));
        values.set(ref, set);
      }
      return set;
    };
    let checked = 0;
    const dangling: string[] = [];
    for (const t of EDUHUB_TABLES) {
      for (const col of table(t).layout.columns) {
        if (!col.references || !generated.has(col.references.split('.')[0] ?? '')) continue;
        const target = valuesOf(col.references);
        for (const v of column(t, col.name)) {
          if (v === '') continue;
          if (!target.has(v)) dangling.push(`${t}.${col.name}=${v} → ${col.references}`);
          checked++;
        }
      }
    }
    expect(dangling.slice(0, 20)).toEqual([]);
    expect(checked).toBeGreaterThan(10_000);
    // Links the schema does not declare but the data must keep: STMA (MKEY, CLASS) is a class in SCL.
    const classes = new Set(table('SCL').rows.map((r) => `${r.SUBJECT}/${r.CLASS}`));
    expect(table('STMA').rows.filter((r) => !classes.has(`${r.MKEY}/${r.CLASS}`))).toEqual([]);
    const active = new Set(
      table('SF')
        .rows.filter((r) => r.STAFF_STATUS === 'ACTV')
        .map((r) => r.SFKEY),
    );
    expect(
      table('KGC')
        .rows.filter((r) => !active.has(r.TEACHER ?? ''))
        .map((r) => r.KGCKEY),
    ).toEqual([]);
    expect(column('SCI', 'SCHOOL_LINK')).toContain(SCHOOL);
    expect(column('SCI', 'ADMIN_SITE').filter((v) => v === 'Y')).toHaveLength(1);
  });

  it('draws realistic students: statuses, codes, year levels and leaving dates', () => {
    const st = table('ST').rows;
    const statuses = new Map<string, number>();
    for (const r of st) statuses.set(r.STATUS ?? '', (statuses.get(r.STATUS ?? '') ?? 0) + 1);
    expect([...statuses.keys()].sort()).toEqual(['ACTV', 'FUT', 'LEFT', 'LVNG']);
    expect(statuses.get('ACTV') ?? 0).toBeGreaterThan(st.length * 0.7);
    for (const r of st) {
      expect(r.STKEY).toMatch(/^[A-Z]{3}\d{4,7}$/);
      expect(r.SCHOOL_YEAR).toMatch(/^(0[7-9]|1[0-2])$/);
      expect(['M', 'F', 'X']).toContain(r.GENDER);
      if (r.STATUS === 'LEFT') {
        expect([r.EXIT_DATE, r.DATELEFT]).not.toContain('');
        expect(timeOf(r.EXIT_DATE)).toBeGreaterThan(timeOf(r.ENTRY));
        expect(timeOf(r.EXIT_DATE)).toBeLessThanOrEqual(Date.UTC(2024, 7, 14));
      }
      if (r.STATUS === 'FUT') expect(timeOf(r.ENTRY)).toBeGreaterThan(Date.UTC(2024, 7, 14));
      if (r.STATUS === 'LVNG') expect(r.DEPARTURE_DATE).not.toBe('');
      if (r.STATUS === 'ACTV') expect(r.HOME_GROUP).not.toBe('');
      // Year 7 in 2024 were born May 2011 – April 2012; allow a year either side for repeats.
      const born = Number(/\/(\d{4}) /.exec(r.BIRTHDATE ?? '')?.[1]);
      const cohort = 2024 - Number(r.SCHOOL_YEAR) - 6 + (r.STATUS === 'FUT' ? 1 : 0);
      expect(born >= cohort - 1 && born <= cohort + 2, `${r.STKEY} born ${born}, year ${r.SCHOOL_YEAR}`).toBe(true);
    }
    for (const k of column('SF', 'SFKEY')) expect(k).toMatch(/^[A-Z0-9]{3,4}$/);
  });

  it('scales the other tables with the students', () => {
    const current = table('ST').rows.filter((r) => r.STATUS === 'ACTV' || r.STATUS === 'LVNG').length;
    const families = table('DF').rows.length;
    expect(families / STUDENTS).toBeGreaterThan(0.6);
    expect(families / STUDENTS).toBeLessThan(0.85);
    expect(table('SF').rows.length).toBe(Math.max(20, Math.ceil(STUDENTS / 12)));
    expect(table('UM').rows.length).toBeGreaterThanOrEqual(families + table('SF').rows.length);
    const perStudent = new Map<string, number>();
    for (const k of column('STMA', 'SKEY')) perStudent.set(k, (perStudent.get(k) ?? 0) + 1);
    expect(perStudent.size).toBe(current);
    for (const n of perStudent.values()) expect(n >= 6 && n <= 8).toBe(true);
    const absences = table('SXAB').rows.length / current;
    expect(absences > 2 && absences < 4).toBe(true);
    expect(table('SCI').rows.length).toBe(2);
  });

  it('exercises the parser: Windows-1252 letters, apostrophes, commas, quotes and CRLF in memos', () => {
    const st = table('ST');
    // ë is one byte, 0xEB, not the UTF-8 pair C3 AB.
    expect(st.raw.includes(Buffer.from([0xeb]))).toBe(true);
    expect(st.raw.includes(Buffer.from([0xc3, 0xab]))).toBe(false);
    expect(column('ST', 'FIRST_NAME').concat(column('DF', 'NAME_A'))).toEqual(expect.arrayContaining(['Zoë']));
    // Š/š/Ž/ž, ’ and – live in 0x80–0x9F, where Windows-1252 and Latin-1 differ.
    const all = EDUHUB_TABLES.map((t) => table(t).text).join('');
    for (const ch of ['Ž', '’', '–', 'ø', 'é']) expect(all.includes(ch), ch).toBe(true);
    expect(column('ST', 'SURNAME').some((s) => s.includes("'"))).toBe(true);
    expect(column('UM', 'ADDRESS01').some((a) => /^Unit \d+, /.test(a))).toBe(true);
    expect(column('ST', 'NOTES').some((n) => /\w+ "\w+"/.test(n))).toBe(true);
    const memos = ['NOTES', 'ACTIVITY_RESTRICTION', 'EMERG_CONTACT_MEMO01'].flatMap((c) => column('ST', c));
    expect(memos.some((m) => m.includes('\r\n'))).toBe(true);
    expect(st.text.includes('""')).toBe(true);
    for (const t of ['SF', 'DF', 'SU', 'STMA']) {
      expect(
        table(t).rows.some((r) => Object.values(r).some((v) => v.includes('\r\n'))),
        t,
      ).toBe(true);
    }
  });

  it('writes upper-case columns (CASES21 text case U) in upper case', async () => {
    const schema = JSON.parse(await readFile(BUILTIN_SCHEMAS_PATH, 'utf8')) as SchemaFile;
    const problems: string[] = [];
    for (const t of EDUHUB_TABLES) {
      for (const f of schema[t]?.fields ?? []) {
        if (f.textCase !== 'upper') continue;
        for (const v of column(t, f.name)) if (v !== v.toUpperCase()) problems.push(`${t}.${f.name}=${v}`);
      }
    }
    expect(problems.slice(0, 20)).toEqual([]);
  });
});
