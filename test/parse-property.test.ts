import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import fc from 'fast-check';
import Papa from 'papaparse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { encodeWindows1252, readCsvRecords, type RawRecord } from '../src/extract/index.js';
import { loadBuiltinLayouts, type TableLayout } from '../src/layouts/index.js';
import { NOT_A_CALENDAR_DATE, parseDate, readEduhubDate } from '../src/validate/dates.js';
import { tempDir } from './helpers/fixtures.js';

/**
 * The fast paths of parsing must give exactly what the general paths give: the CSV reader's
 * quote-free runs (papaparse's fast mode) against papaparse's quote-aware parse of the whole file,
 * and the hand-written eduHub date reader against the regular-expression one. Seeds are fixed so
 * CI runs the same cases; PARSE_PROPERTY_SEED and PARSE_PROPERTY_RUNS hunt for new ones.
 */

const SEED = Number(process.env.PARSE_PROPERTY_SEED ?? 20_261_127);
const RUNS = Number(process.env.PARSE_PROPERTY_RUNS ?? 150);
const ST = loadBuiltinLayouts().get('ST') as TableLayout;

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

/** A field as CASES writes it: bare text, or quoted with commas, doubled quotes and line breaks. */
const fieldArb = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^[A-Za-z0-9 .'/-]{0,12}$/).map((text) => ({ text, raw: text })) },
  {
    weight: 1,
    arbitrary: fc.array(fc.constantFrom('a', 'B', ' ', ',', '""', '\n', '\r\n', 'é'), { maxLength: 8 }).map((parts) => {
      const raw = `"${parts.join('')}"`;
      return { text: parts.join('').replaceAll('""', '"').replaceAll('\r\n', '\n'), raw };
    }),
  },
);

/** Records of a plain key and two generated fields; a run of plain padding rows moves the chunk edges. */
const fileArb = fc.record({
  padding: fc.nat({ max: 4000 }),
  records: fc.array(fc.tuple(fieldArb, fieldArb), { minLength: 1, maxLength: 60 }),
  eol: fc.constantFrom('\n', '\r\n'),
  finalEol: fc.boolean(),
});

async function readAll(path: string): Promise<{ records: RawRecord[]; problems: string[] }> {
  const records: RawRecord[] = [];
  const problems: string[] = [];
  for await (const batch of readCsvRecords(
    path,
    'ST_8865.csv',
    ST,
    () => {},
    (p) => problems.push(p.code),
  ))
    records.push(...batch.records);
  return { records, problems };
}

describe('CSV reading matches a quote-aware parse of the whole file', () => {
  it('fields and start lines, wherever the quotes and the chunk edges fall', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fileArb, async ({ padding, records, eol, finalEol }) => {
        const lines = ['STKEY,SURNAME,NOTES'];
        for (let i = 0; i < padding; i++) lines.push(`P${i},PADDING${'X'.repeat(i % 11)},`);
        records.forEach(([a, b], i) => lines.push(`K${i},${a.raw},${b.raw}`));
        const text = lines.join(eol) + (finalEol ? eol : '');
        const path = join(dir, `prop-${n++}.csv`);
        await writeFile(path, encodeWindows1252(text.replaceAll('é', 'e')));

        const { records: got, problems } = await readAll(path);
        expect(problems).toEqual([]);
        // The reference: papaparse's quote-aware mode over the whole (normalised) text at once.
        const normalised = text.replaceAll('é', 'e').replace(/\r\n?/g, '\n');
        const reference = Papa.parse<string[]>(normalised, {
          delimiter: ',',
          newline: '\n',
          quoteChar: '"',
          skipEmptyLines: true,
        });
        expect(reference.errors).toEqual([]);
        const want = reference.data.slice(1);
        expect(got.map((r) => r.problem)).toEqual(want.map(() => null));
        expect(got.map((r) => r.fields)).toEqual(want);
        // Each record starts on the line after everything before it.
        let line = 2;
        const wantLines = want.map((_, i) => {
          const at = line;
          const raw = i < padding ? 'x' : (records[i - padding] as Array<{ raw: string }>).map((f) => f.raw).join(',');
          line += 1 + (raw.replace(/\r\n?/g, '\n').split('\n').length - 1);
          return at;
        });
        expect(got.map((r) => r.line)).toEqual(wantLines);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  }, 120_000);
});

describe('CSV reading of records that are not plain RFC 4180', () => {
  /** Fields papaparse reads without complaint though they bend the rules, and fields it rejects. */
  const oddArb = fc.constantFrom(
    { raw: 'ab"c', text: 'ab"c', bad: false },
    { raw: '"ab"  ', text: 'ab', bad: false },
    { raw: '"ab"c', text: '', bad: true },
    { raw: '"a""b"x', text: '', bad: true },
  );
  const plainArb = fc.stringMatching(/^[A-Za-z0-9 ]{0,6}$/).map((text) => ({ raw: text, text, bad: false }));
  const recordArb = fc.oneof(
    {
      weight: 3,
      arbitrary: fc.tuple(
        fieldArb.map((f) => ({ ...f, bad: false })),
        fieldArb.map((f) => ({ ...f, bad: false })),
      ),
    },
    { weight: 1, arbitrary: fc.tuple(oddArb, plainArb) },
    { weight: 1, arbitrary: fc.tuple(plainArb, oddArb) },
  );

  it('rejects only the line of a broken quote, reads what papaparse tolerates, and loses nothing else', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: 4000 }),
        fc.array(recordArb, { minLength: 1, maxLength: 40 }),
        async (padding, records) => {
          const lines = ['STKEY,SURNAME,NOTES'];
          for (let i = 0; i < padding; i++) lines.push(`P${i},PADDING${'X'.repeat(i % 11)},`);
          records.forEach(([a, b], i) => lines.push(`K${i},${a.raw},${b.raw}`));
          const path = join(dir, `odd-${n++}.csv`);
          await writeFile(path, encodeWindows1252(`${lines.join('\n').replaceAll('é', 'e')}\n`));

          const { records: got, problems } = await readAll(path);
          expect(problems).toEqual([]);
          const tail = got.slice(padding);
          let line = padding + 2;
          const want = records.map(([a, b], i) => {
            const at = line;
            line += 1 + (`${a.raw},${b.raw}`.replace(/\r\n?/g, '\n').split('\n').length - 1);
            const bad = a.bad || b.bad;
            return {
              line: at,
              fields: bad ? [] : [`K${i}`, a.text.replaceAll('é', 'e'), b.text.replaceAll('é', 'e')],
              broken: bad,
            };
          });
          expect(
            tail.map((r) => ({ line: r.line, fields: r.problem ? [] : r.fields, broken: r.problem !== null })),
          ).toEqual(want);
        },
      ),
      { seed: SEED, numRuns: RUNS },
    );
  }, 120_000);
});

describe('the eduHub date reader agrees with the general date parser', () => {
  /** A number written with one or two digits (as eduHub writes days, months and hours), now and then with a digit too many or none. */
  const num = (max: number, width: 1 | 2) =>
    fc.oneof(
      {
        weight: 12,
        arbitrary: fc
          .tuple(fc.integer({ min: 0, max }), fc.boolean())
          .map(([n, pad]) => (pad || width === 2 ? String(n).padStart(2, '0') : String(n))),
      },
      { weight: 1, arbitrary: fc.constantFrom('', '123', 'x1') },
    );
  const year = fc.oneof(
    { weight: 12, arbitrary: fc.integer({ min: 0, max: 9999 }).map((y) => String(y).padStart(4, '0')) },
    { weight: 1, arbitrary: fc.constantFrom('999', '20245', '') },
  );
  /** Mostly the usual separator, sometimes another. */
  const sep = (usual: string, ...odd: string[]) =>
    fc.oneof({ weight: 10, arbitrary: fc.constant(usual) }, { weight: 1, arbitrary: fc.constantFrom(...odd) });
  const dateArb = fc
    .tuple(
      num(32, 1),
      sep('/', '-', '.'),
      num(13, 1),
      sep('/', '-', ''),
      year,
      fc.option(
        fc.tuple(
          sep(' ', '  ', 'T', ''),
          num(13, 1),
          sep(':', '.'),
          num(60, 2),
          sep(':', '', '.'),
          num(60, 2),
          sep(' AM', ' PM', ' PM', ' am', 'PM', '', ' XM', ' A'),
        ),
        { nil: undefined },
      ),
    )
    .map(([d, s1, m, s2, y, time]) => `${d}${s1}${m}${s2}${y}${time ? time.join('') : ''}`);

  it('gives the same value, or the same calendar failure, for every text it accepts', () => {
    let accepted = 0;
    fc.assert(
      fc.property(dateArb, fc.boolean(), (text, withTime) => {
        const fast = readEduhubDate(text, withTime);
        if (fast === undefined) return;
        accepted++;
        const general = parseDate(text, 'eduhub', withTime);
        if (fast === NOT_A_CALENDAR_DATE) expect(general).toEqual({ ok: false, reason: 'calendar' });
        else expect(general).toEqual({ ok: true, value: fast });
      }),
      { seed: SEED, numRuns: RUNS * 40 },
    );
    // The generator must reach the fast path often, or the property says nothing.
    expect(accepted).toBeGreaterThan(RUNS * 2);
  });

  it('reads the shapes eduHub writes', () => {
    expect(readEduhubDate('5/03/2019 12:00:00 AM', true)).toBe('2019-03-05 00:00:00');
    expect(readEduhubDate('15/11/2024 1:05:09 PM', true)).toBe('2024-11-15 13:05:09');
    expect(readEduhubDate('29/02/2024', false)).toBe('2024-02-29');
    expect(readEduhubDate('29/02/2023', false)).toBe(NOT_A_CALENDAR_DATE);
    expect(readEduhubDate('1/1/2020 13:00:00 PM', true)).toBe(NOT_A_CALENDAR_DATE);
    expect(readEduhubDate(' 1/01/2020', false)).toBeUndefined();
  });
});
