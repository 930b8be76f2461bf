import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Reject } from '../src/errors/index.js';
import { DECODE_CHUNK_BYTES, encodeWindows1252 } from '../src/extract/index.js';
import { loadBuiltinLayouts, type ColumnLayout, type ColumnType, type TableLayout } from '../src/layouts/index.js';
import { createRowHasher } from '../src/load/index.js';
import { rowLine } from '../src/store/postgres/copy/text.js';
import type { StagedRow } from '../src/store/index.js';
import { createValidatedFileReader, type TypedRow } from '../src/validate/index.js';
import { columnLayout, sourceFile, tempDir } from './helpers/fixtures.js';

/**
 * A row read from a plain CSV line carries its values already written as CSV (TypedRow.csv): the
 * line itself with converted fields replaced. PostgreSQL's COPY takes that in place of writing
 * the values one by one, so the two must be the same text, byte for byte, for every column type,
 * empty and absent columns, and whatever the line holds. Seeds are fixed so CI runs the same cases.
 */

const SEED = Number(process.env.PARSE_PROPERTY_SEED ?? 20_261_127);
const RUNS = Number(process.env.PARSE_PROPERTY_RUNS ?? 120);
const ST = loadBuiltinLayouts().get('ST') as TableLayout;

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

const column = (name: string, type: ColumnType, maxLength: number | null = null): ColumnLayout =>
  columnLayout({ name, type, maxLength });

/** The key, then one column of every type (two of text: one with a length limit). */
const COLUMNS: readonly ColumnLayout[] = [
  column('K', 'string', 10),
  column('I', 'int'),
  column('N', 'smallint'),
  column('D', 'date'),
  column('T', 'datetime'),
  column('M', 'decimal'),
  column('F', 'float'),
  column('B', 'bytes'),
  column('S', 'string', 12),
  column('X', 'string'),
  column('G', 'flag', 1),
];
const LAYOUT: TableLayout = {
  ...ST,
  table: 'ZZ',
  primaryKey: ['K'],
  keyProblem: null,
  columns: COLUMNS,
  openColumns: true,
  fieldMapping: null,
  view: null,
};

/** Raw field texts for a column: empty, valid in every written form, and text CSV must quote. */
const FIELDS: Readonly<Record<ColumnType, readonly string[]>> = {
  string: ['', 'Smith', ' padded ', 'a\tb', 'O"Neil', 'x,y', 'two\nlines', 'nul\0here', 'é€“”'],
  flag: ['', 'Y', 'N'],
  int: ['', '42', ' 7 ', '007', '+12', '-3'],
  smallint: ['', '12', '-32768'],
  date: ['', '5/02/2019 12:00:00 AM', '5/02/2019', '20190205', '2019-02-05'],
  datetime: ['', '15/11/2008 1:05:00 PM', '5/02/2019 12:30:05 PM', '2019-02-05T08:15:00', '00000000'],
  decimal: ['', '12.50', '+3', '.5'],
  float: ['', '1.5e3', '-0.25'],
  bytes: ['', 'FFD8FFE0', 'anything'],
};
/** Fields that reject their row, now and then. */
const INVALID: Readonly<Record<ColumnType, string>> = {
  string: 'far too long for twelve',
  flag: 'YY',
  int: '4.5',
  smallint: '40000',
  date: '31/02/2019',
  datetime: '5/02/2019 13:00:00 PM',
  decimal: '1,000.00',
  float: 'NaN',
  bytes: '',
};

/** A field as CASES would write it: quoted when it must be, sometimes when it need not be. */
function written(text: string, quoteAnyway: boolean): string {
  return quoteAnyway || /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

const fileArb = fc.record({
  // Which non-key columns the file has, in which order.
  present: fc.shuffledSubarray(COLUMNS.slice(1) as ColumnLayout[]),
  rows: fc.array(
    fc.tuple(
      fc.array(fc.nat(), { minLength: COLUMNS.length, maxLength: COLUMNS.length }),
      fc.array(fc.boolean(), { minLength: COLUMNS.length, maxLength: COLUMNS.length }),
    ),
    {
      minLength: 1,
      maxLength: 40,
    },
  ),
  eol: fc.constantFrom('\n', '\r\n'),
});

async function readRows(path: string): Promise<{ rows: TypedRow[]; names: string[]; rejects: Reject[] }> {
  const reader = createValidatedFileReader(sourceFile(path, LAYOUT), { csv: true });
  const rows: TypedRow[] = [];
  const rejects: Reject[] = [];
  let names: string[] = [];
  for await (const batch of reader.batches()) {
    names = batch.columns.columns.map((c) => c.name.toLowerCase());
    rows.push(...batch.rows);
    rejects.push(...batch.rejects);
  }
  return { rows, names, rejects };
}

describe('rows written as CSV from their lines', () => {
  it('are the text the values give, column for column, for every type and shape of line', async () => {
    let n = 0;
    let fromLines = 0;
    let fromValues = 0;
    await fc.assert(
      fc.asyncProperty(fileArb, async ({ present, rows, eol }) => {
        const header = ['K', ...present.map((c) => c.name)];
        const lines = [header.join(',')];
        rows.forEach(([picks, quotes], i) => {
          const fields = [
            `K${i}`,
            ...present.map((c, j) => {
              const choices = FIELDS[c.type];
              const pick = picks[j] as number;
              const text = pick % 31 === 0 ? INVALID[c.type] : (choices[pick % choices.length] as string);
              return written(text, (quotes[j] as boolean) && pick % 7 === 0);
            }),
          ];
          lines.push(fields.join(','));
        });
        const path = join(dir, `csv-line-${n++}.csv`);
        await writeFile(path, encodeWindows1252(lines.join(eol) + eol));

        const { rows: read, names } = await readRows(path);
        const hasher = createRowHasher(names);
        for (const r of read) {
          const staged: StagedRow = {
            key: r.key,
            values: r.values,
            hash: hasher.hash(r.values),
            line: r.lineHash,
            csv: r.csv,
          };
          const raw = lines[Number(r.key.slice(1)) + 1] as string;
          // A line with a quote or U+0000 is never copied (and lines near one may not be either).
          if (raw.includes('"') || raw.includes('\0')) expect(r.csv).toBeNull();
          if (r.csv === null) fromValues++;
          else fromLines++;
          expect(rowLine(staged, names.length, ',t,1,1')).toBe(
            rowLine({ ...staged, csv: null }, names.length, ',t,1,1'),
          );
        }
      }),
      { seed: SEED, numRuns: RUNS },
    );
    // Both ways were exercised, many times over.
    expect(fromLines).toBeGreaterThan(200);
    expect(fromValues).toBeGreaterThan(200);
  }, 120_000);

  it('are never written for a line holding U+0000, which is rejected, on either side of a chunk boundary', async () => {
    // Rows of 100 bytes; U+0000 is spotted from the bytes of each 32 KiB chunk, and a row cut by
    // a chunk boundary is carried into the next chunk with whatever it holds.
    const boundary = DECODE_CHUNK_BYTES;
    const lines = ['K,X'];
    let offset = 4;
    const nulAt = new Set<number>();
    for (let i = 0; offset < boundary * 5; i++) {
      const key = `K${String(i).padStart(6, '0')}`;
      let x = 'a'.repeat(100 - key.length - 2);
      const end = offset + 100;
      const cut = [1, 2].map((k) => k * boundary).find((b) => b > offset && b < end);
      // Across the first boundary the NUL comes before the cut, across the second after it; in
      // the middle of the third chunk a line with a quote comes just before a NUL line.
      if (cut === boundary)
        x = `${x.slice(0, cut - offset - key.length - 3)}\0${x.slice(cut - offset - key.length - 2)}`;
      if (cut === boundary * 2)
        x = `${x.slice(0, cut - offset - key.length + 2)}\0${x.slice(cut - offset - key.length + 3)}`;
      const middle = Math.floor(boundary * 2.5);
      if (offset <= middle && middle < end) x = `"${x.slice(2)}"`;
      if (offset > middle && offset - 100 <= middle) x = `\0${x.slice(1)}`;
      if (x.includes('\0')) nulAt.add(i);
      lines.push(`${key},${x}`);
      offset = end;
    }
    const path = join(dir, 'nul-boundaries.csv');
    await writeFile(path, lines.join('\n') + '\n');
    const { rows, rejects } = await readRows(path);
    expect(nulAt.size).toBe(3);
    // A value with U+0000 cannot be stored faithfully by either database: its row is rejected, key and all.
    expect(rows).toHaveLength(lines.length - 1 - nulAt.size);
    expect(rejects.map((r) => [r.line, r.key, r.field, r.code])).toEqual(
      [...nulAt].map((i) => [i + 2, `K${String(i).padStart(6, '0')}`, 'X', 'ETL_ROW_NUL']),
    );
    for (const r of rows) {
      const i = Number(r.key.slice(1));
      expect(nulAt.has(i), `row ${i}`).toBe(false);
      expect(r.values[1]).toBe((lines[i + 1] as string).slice(8).replace(/^"|"$/g, ''));
    }
    // Lines before the first U+0000, and in the chunks after the last, still go as they are.
    const first = Math.min(...nulAt);
    const clear = rows.filter((r) => {
      const i = Number(r.key.slice(1));
      return i < first || 4 + 100 * i >= boundary * 3;
    });
    expect(clear.length).toBeGreaterThan(rows.length / 2);
    for (const r of clear) expect(r.csv, `row ${r.key}`).not.toBeNull();
  });

  it('are not written unless asked for', async () => {
    const path = join(dir, 'plain.csv');
    await writeFile(path, 'K,I,D\nA1,7,5/02/2019\n');
    const asked = await readRows(path);
    expect(asked.rows[0]?.csv).toBe('A1,7,2019-02-05' + ','.repeat(COLUMNS.length - 2));
    const reader = createValidatedFileReader(sourceFile(path, LAYOUT));
    const written: Array<string | null> = [];
    for await (const batch of reader.batches()) written.push(...batch.rows.map((r) => r.csv));
    expect(written).toEqual([null]);
  });
});
