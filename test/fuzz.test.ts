import { readFileSync } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { isEtlError } from '../src/errors/index.js';
import type { SourceFile } from '../src/extract/index.js';
import {
  createLayoutRegistry,
  loadBuiltinLayouts,
  readRelationshipsJson,
  type TableLayout,
} from '../src/layouts/index.js';
import { checkRelationshipsJson } from '../src/layouts/relationships.js';
import { createValidatedFileReader } from '../src/validate/index.js';
import { fixture, tempDir } from './helpers/fixtures.js';

/**
 * A fuzzer over what arrives from outside (issue 23): CSV and fixed-width bytes, and
 * relationships.json. Whatever the bytes, reading must end — within TIME_LIMIT_MS, without an
 * unhandled exception, with memory bounded — as rows plus rejects, or as a coded file-level
 * failure; a bad relationships.json is a coded EtlError, never anything else.
 *
 * Seeded (FUZZ_SEED; FUZZ_RUNS cases per property, 300 by default). A failure prints the
 * seed and path fast-check reports: add them to REGRESSIONS below, and they are replayed every run.
 */

const SEED = Number(process.env.FUZZ_SEED ?? 23_004);
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const TIME_LIMIT_MS = 2_000;
/** Heap growth allowed over the whole file: inputs are at most tens of KiB. */
const HEAP_BOUND_BYTES = 256 * 1024 * 1024;

/** Failing cases found so far, by property: replayed before the seeded search. */
const REGRESSIONS: Record<string, ReadonlyArray<{ seed: number; path: string }>> = {
  csv: [],
  fixed: [],
  json: [],
  layouts: [],
};

const ST = loadBuiltinLayouts().get('ST') as TableLayout;
const STUDENT_DAT = createLayoutRegistry(
  checkRelationshipsJson(JSON.parse(readFileSync(fixture('fixed/relationships.json'), 'utf8')), 'fixed').file,
).layoutFor('DF') as TableLayout;
const REAL_RELATIONSHIPS: unknown = JSON.parse(readFileSync(fixture('fixed/relationships.json'), 'utf8'));

let dir: string;
let cleanup: () => Promise<void>;
let cases = 0;
let heapStart = 0;
let heapPeak = 0;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('cases-etl-fuzz-'));
  heapStart = process.memoryUsage().heapUsed;
});
afterAll(() => cleanup());

/** Fails the case if `work` takes longer than TIME_LIMIT_MS: a hang is a finding, not a stuck suite. */
async function withinLimit<T>(what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took over ${TIME_LIMIT_MS} ms`)), TIME_LIMIT_MS);
  });
  try {
    return await Promise.race([work, limit]);
  } finally {
    clearTimeout(timer);
    heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
  }
}

async function writeCase(name: string, bytes: Uint8Array): Promise<string> {
  const path = join(dir, `${++cases}-${name}`);
  await writeFile(path, bytes);
  return path;
}

/**
 * Reads a file as `layout`; checks every record ends as a row, a reject or a known line, and a
 * failure carries a code.
 */
async function readAllChecked(name: string, bytes: Uint8Array, layout: TableLayout): Promise<void> {
  const path = await writeCase(name, bytes);
  const file: SourceFile = {
    name,
    path,
    bytes: (await stat(path)).size,
    mtimeMs: 0,
    layout,
    table: layout.table,
    tableId: `${layout.table}_8865`,
    mode: 'full',
  };
  const reader = createValidatedFileReader(file);
  await withinLimit(
    `reading ${name} (${bytes.length} bytes)`,
    (async () => {
      for await (const batch of reader.batches()) {
        expect(
          batch.rows.length + batch.rejects.length + batch.known,
          'every record is a row, a reject or a known line',
        ).toBe(batch.records);
        for (const r of batch.rejects) expect(r.code).toMatch(/^ETL_[A-Z_]+$/);
      }
    })(),
  );
  if (reader.failure !== null) expect(reader.failure.code).toMatch(/^ETL_[A-Z_]+$/);
}

const latin1 = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);

/** The troublemakers of a CSV: quotes, separators, line ends, NULs, Windows-1252 and UTF-8 bytes, dates. */
const csvToken = fc.constantFrom(
  '"',
  '""',
  ',',
  '\r',
  '\n',
  '\r\n',
  '\0',
  '\x93',
  '\x94',
  '\xe9',
  '\xc3\xa9',
  '\xff\xfe',
  'STU0001',
  'STU0002',
  'NGUYEN',
  '',
  ' ',
  '31/02/2011',
  '5/02/2009 12:00:00 AM',
  'ACTV',
  '1010',
  'x'.repeat(300),
);
const csvLine = fc.array(csvToken, { maxLength: 20 }).map((t) => t.join(''));
const ST_HEADER = 'STKEY,SURNAME,FIRST_NAME,BIRTHDATE,STATUS,REGISTRATION';
const csvBytes = fc.oneof(
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 4096 }) },
  {
    weight: 4,
    arbitrary: fc
      .record({
        header: fc.oneof(fc.constant(ST_HEADER), fc.constant(''), fc.constant(`\ufeff${ST_HEADER}`), csvLine),
        lines: fc.array(csvLine, { maxLength: 40 }),
        eol: fc.constantFrom('\r\n', '\n', '\r'),
      })
      .map(({ header, lines, eol }) => latin1([header, ...lines].join(eol))),
  },
);

/** Fixed-width lines: right, short, long, with stray bytes and dates that are not dates. */
const fixedLine = fc.oneof(
  fc.stringMatching(/^[A-Z0-9 ]{0,70}$/),
  fc
    .tuple(
      fc.stringMatching(/^[A-Z0-9]{1,10}$/),
      fc.constantFrom('20090205', '20110231', '        ', 'ABCDEFGH', '2009020'),
      fc.constantFrom('ACTV', 'LEFT', '\0\0\0\0', ''),
    )
    .map(([key, date, status]) => `${key.padEnd(10)}${'SMITH'.padEnd(20)}${'ZOE'.padEnd(15)}${date}${status}`),
  fc.array(csvToken, { maxLength: 8 }).map((t) => t.join('')),
);
const fixedBytes = fc.oneof(
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 4096 }) },
  {
    weight: 4,
    arbitrary: fc
      .record({ lines: fc.array(fixedLine, { maxLength: 40 }), eol: fc.constantFrom('\r\n', '\n') })
      .map(({ lines, eol }) => latin1(lines.join(eol))),
  },
);

/** The real fixed-width layout with one part replaced by something generated. */
const mutatedLayout = fc
  .tuple(
    fc.constantFrom('primary_keys', 'file_layouts', 'columns', 'column', 'start', 'width', 'type', 'filename'),
    fc.jsonValue(),
  )
  .map(([where, value]) => {
    const json = structuredClone(REAL_RELATIONSHIPS) as {
      primary_keys: unknown;
      file_layouts: Record<string, Record<string, unknown>>;
    };
    const layout = json.file_layouts['STUDENT.DAT'] as Record<string, unknown>;
    const column = (layout.columns as Array<Record<string, unknown>>)[0] as Record<string, unknown>;
    if (where === 'primary_keys') json.primary_keys = value;
    else if (where === 'file_layouts') json.file_layouts = value as never;
    else if (where === 'columns') layout.columns = value;
    else if (where === 'column') (layout.columns as unknown[])[1] = value;
    else if (where === 'filename') layout.filename = value;
    else column[where] = value;
    return json;
  });

async function assertProperty<T>(
  name: keyof typeof REGRESSIONS,
  arb: fc.Arbitrary<T>,
  check: (value: T) => Promise<void>,
): Promise<void> {
  const property = fc.asyncProperty(arb, check);
  for (const { seed, path } of REGRESSIONS[name] ?? []) await fc.assert(property, { seed, path, numRuns: 1 });
  await fc.assert(property, { seed: SEED, numRuns: RUNS });
}

describe(`fuzzing the readers (seed ${SEED}, ${RUNS} cases each)`, () => {
  it('CSV bytes end as rows and rejects or a coded failure', { timeout: 120_000 }, async () => {
    await assertProperty('csv', csvBytes, (bytes) => readAllChecked('ST_8865.csv', bytes, ST));
  });

  it('fixed-width bytes end as rows and rejects or a coded failure', { timeout: 120_000 }, async () => {
    await assertProperty('fixed', fixedBytes, (bytes) => readAllChecked('STUDENT.DAT', bytes, STUDENT_DAT));
  });

  it('relationships.json bytes are a layout file or a coded EtlError', { timeout: 120_000 }, async () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 512 }),
      fc.jsonValue().map((v) => latin1(JSON.stringify(v) ?? '')),
      mutatedLayout.map((v) => latin1(JSON.stringify(v))),
    );
    await assertProperty('json', bytes, async (b) => {
      const path = await writeCase('relationships.json', b);
      await withinLimit(
        'reading relationships.json',
        readRelationshipsJson(path).then(
          (file) => void createLayoutRegistry(file),
          (err: unknown) => {
            if (!isEtlError(err)) throw err;
            expect(err.code).toMatch(/^ETL_LAYOUT_/);
          },
        ),
      );
    });
  });

  it('mutated real layouts are checked with problems listed, or make a registry', { timeout: 120_000 }, async () => {
    await assertProperty('layouts', mutatedLayout, async (json) => {
      await withinLimit(
        'checking a mutated layout',
        (async () => {
          const checked = checkRelationshipsJson(json, 'relationships.json');
          if (checked.file === null) expect(checked.problems.length).toBeGreaterThan(0);
          else {
            try {
              createLayoutRegistry(checked.file);
            } catch (err) {
              // A registry may still refuse a layout the schema let through, but only with a code.
              if (!isEtlError(err)) throw err;
            }
          }
        })(),
      );
    });
  });

  it('kept the heap bounded', () => {
    expect(heapPeak - heapStart).toBeLessThan(HEAP_BOUND_BYTES);
  });
});
