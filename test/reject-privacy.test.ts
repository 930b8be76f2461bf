import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadConfig } from '../src/config/index.js';
import type { Reject } from '../src/errors/index.js';
import { DECODE_CHUNK_BYTES, encodeWindows1252, type LineLimits } from '../src/extract/index.js';
import { loadBuiltinLayouts, loadLayouts, type TableLayout } from '../src/layouts/index.js';
import { runNotification } from '../src/notify/index.js';
import { cutUtf8 } from '../src/util/utf8.js';
import { createValidatedFileReader, type TypedRow } from '../src/validate/index.js';
import { fixture, sourceFile, tempDir } from './helpers/fixtures.js';

const ST = loadBuiltinLayouts().get('ST') as TableLayout;
const SURNAME = 'QUILLFEATHERSTONE';
const HEADER = 'STKEY,SURNAME,FIRST_NAME,E_MAIL,BIRTHDATE,STATUS';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir('cases-etl-privacy-')));
afterAll(() => cleanup());

let n = 0;
/** Reads a file's rows and rejects as a run would. */
async function read(
  text: string | Buffer,
  layout: TableLayout = ST,
  lines?: LineLimits,
): Promise<{ rows: TypedRow[]; rejects: Reject[] }> {
  const path = join(dir, `f${n++}${layout.format === 'fixed' ? '.DAT' : '.csv'}`);
  await writeFile(path, typeof text === 'string' ? encodeWindows1252(text) : text);
  return readPath(path, layout, lines);
}

async function readPath(
  path: string,
  layout: TableLayout,
  lines?: LineLimits,
): Promise<{ rows: TypedRow[]; rejects: Reject[]; failure: string | null }> {
  const reader = createValidatedFileReader(sourceFile(path, layout), lines === undefined ? {} : { lines });
  const rows: TypedRow[] = [];
  const rejects: Reject[] = [];
  for await (const batch of reader.batches()) {
    rows.push(...batch.rows);
    rejects.push(...batch.rejects);
  }
  return { rows, rejects, failure: reader.failure?.code ?? null };
}

const shown = (r: Reject): string => JSON.stringify({ ...r, raw: undefined });

/** A STUDENT.DAT line of the fixture layout (key 10, surname 20, first name 15, date 8, status 4). */
const datLine = (key: string, surname: string, first = 'Mai'): string =>
  `${key.padEnd(10)}${surname.padEnd(20)}${first.padEnd(15)}20090205ACTV`;

describe('a reject shows no values', () => {
  it('a `;`- or tab-delimited line has no key, and neither its message nor its key holds the line', async () => {
    const { rows, rejects } = await read(
      [
        HEADER,
        'ABC0001,NGUYEN,Mai,,5/02/2009,ACTV',
        `ABC0002;${SURNAME};Ann;ann@example.com;5/02/2009;ACTV`,
        `ABC0003\t${SURNAME}\tAnn\tann@example.com\t5/02/2009\tACTV`,
        `"ABC0004";"${SURNAME}";"Ann"`,
        'ABC0005,LEE,Ho,,5/02/2009,ACTV',
      ].join('\r\n') + '\r\n',
    );
    expect(rows.map((r) => r.key)).toEqual(['ABC0001', 'ABC0005']);
    expect(rejects.map((r) => [r.line, r.key, r.code])).toEqual([
      [3, null, 'ETL_PARSE_FIELD_COUNT'],
      [4, null, 'ETL_PARSE_FIELD_COUNT'],
      [5, null, 'ETL_PARSE_BAD_QUOTE'],
    ]);
    for (const r of rejects) expect(shown(r)).not.toContain(SURNAME);
    // The original line is kept, for an admin who asks, with its length.
    expect(rejects[0]?.raw).toBe(`ABC0002;${SURNAME};Ann;ann@example.com;5/02/2009;ACTV`);
    expect(rejects[0]?.rawBytes).toBe(rejects[0]?.raw.length);
  });

  it("a key is cut to its column's width, and a conversion message names the column and form, not the text", async () => {
    const { rejects } = await read(
      [HEADER, `ABC0001${SURNAME},LEE,Ho,,5/02/2009,ACTV`, `ABC0002,${SURNAME},Ho,,31/02/${SURNAME},ACTV`].join('\n') +
        '\n',
    );
    expect(rejects.map((r) => [r.key, r.field, r.code])).toEqual([
      ['ABC0001QUI', 'STKEY', 'ETL_ROW_TOO_LONG'],
      ['ABC0002', 'BIRTHDATE', 'ETL_TYPE_DATE'],
    ]);
    expect(rejects[1]?.message).toMatch(/^BIRTHDATE is not a date in the form /);
    for (const r of rejects) expect(r.message).not.toMatch(/QUILL|31\/02/);
  });

  it('an encoding problem names the column, not the characters found', async () => {
    const { rejects } = await read(
      Buffer.concat([
        encodeWindows1252(`${HEADER}\r\nABC0001,NGUYEN,`),
        Buffer.from('ZoÃ«', 'latin1'),
        encodeWindows1252(',,,ACTV\r\n'),
      ]),
    );
    expect(rejects).toEqual([
      expect.objectContaining({ key: 'ABC0001', field: 'FIRST_NAME', code: 'ETL_PARSE_ENCODING_MISMATCH' }),
    ]);
    expect(rejects[0]?.message).not.toContain('Ã');
  });

  it('keeps at most ETL_MAX_REJECT_LINE_BYTES of the original line, cut between characters, and counts the rest', async () => {
    const limits = { maxLineBytes: 1 << 20, maxRejectLineBytes: 1024 };
    // 😀 is four bytes in UTF-8 and two UTF-16 units: the cut falls inside one at byte 1024.
    const line = `ABC0001;${'😀'.repeat(600)}`;
    const { rejects } = await read(Buffer.from(`${HEADER}\n${line}\n`, 'utf8'), { ...ST, encoding: 'utf-8' }, limits);
    const raw = rejects[0]?.raw ?? '';
    expect(Buffer.byteLength(raw)).toBeLessThanOrEqual(1024);
    expect(Buffer.byteLength(raw)).toBeGreaterThan(1020);
    expect(raw).toBe(cutUtf8(line, 1024));
    expect(raw.endsWith('😀')).toBe(true);
    expect(rejects[0]?.rawBytes).toBe(Buffer.byteLength(line));
  });
});

describe('a line over ETL_MAX_LINE_BYTES', () => {
  /** Writes `before`, then a line of `bytes` bytes starting `start`, then `after`, streaming. */
  async function writeLongLine(
    path: string,
    before: string,
    start: string,
    bytes: number,
    after: string,
  ): Promise<void> {
    const file = await open(path, 'w');
    try {
      await file.write(before);
      await file.write(start);
      const block = Buffer.alloc(64 * 1024, 'y');
      for (let left = bytes - start.length; left > 0; left -= block.length)
        await file.write(block.subarray(0, Math.min(left, block.length)));
      await file.write(after);
    } finally {
      await file.close();
    }
  }

  it('is one reject with its own code, skipped without being held, and the next lines load', async () => {
    const path = join(dir, 'long.csv');
    const bytes = 5 * (1 << 20) + 17;
    // A quote early on would otherwise have been read as a bad or unterminated quote, chunk after chunk.
    await writeLongLine(
      path,
      `${HEADER}\nABC0001,NGUYEN,Mai,,,ACTV\n`,
      `ABC0002,"${SURNAME}`,
      bytes,
      '\nABC0003,LEE,Ho,,,ACTV\nABC0004,KIM,Su,,,ACTV\n',
    );
    const { rows, rejects } = await readPath(path, ST);
    expect(rows.map((r) => [r.line, r.key])).toEqual([
      [2, 'ABC0001'],
      [4, 'ABC0003'],
      [5, 'ABC0004'],
    ]);
    expect(rejects).toHaveLength(1);
    expect(rejects[0]).toMatchObject({
      line: 3,
      key: null,
      field: null,
      code: 'ETL_PARSE_LINE_TOO_LONG',
      rawBytes: bytes,
    });
    expect(rejects[0]?.message).toBe(
      `the line has ${bytes} bytes, more than the 1048576 a line may have; it was skipped unread`,
    );
    expect(rejects[0]?.raw).toBe(`ABC0002,"${SURNAME}${'y'.repeat(4096 - 9 - SURNAME.length)}`);
  });

  it("is refused at the file's end too, and when the whole line arrived in one stretch of text", async () => {
    const limits = { maxLineBytes: 2048, maxRejectLineBytes: 100 };
    // 3,000 bytes fit in one 32 KiB chunk: the line is whole when it is read.
    const short = await read(`${HEADER}\nABC0001,${'z'.repeat(3000)},,,,ACTV\nABC0002,LEE,Ho,,,ACTV\n`, ST, limits);
    expect(short.rejects.map((r) => [r.line, r.code, r.rawBytes, r.raw.length])).toEqual([
      [2, 'ETL_PARSE_LINE_TOO_LONG', 3016, 100],
    ]);
    expect(short.rows.map((r) => r.key)).toEqual(['ABC0002']);
    const path = join(dir, 'long-last.csv');
    await writeLongLine(path, `${HEADER}\nABC0001,NGUYEN,Mai,,,ACTV\n`, 'ABC0002,', 3 * DECODE_CHUNK_BYTES, '');
    const last = await readPath(path, ST, limits);
    expect(last.rejects.map((r) => [r.line, r.code, r.rawBytes])).toEqual([
      [3, 'ETL_PARSE_LINE_TOO_LONG', 3 * DECODE_CHUNK_BYTES],
    ]);
    expect(last.rows).toHaveLength(1);
  });

  it('in a fixed-width file is one reject too', async () => {
    const registry = await loadLayouts(fixture('fixed', 'relationships.json'));
    const layout = registry.layoutForFileName('STUDENT.DAT') as TableLayout;
    const good = datLine('ABC0001', 'NGUYEN');
    const path = join(dir, 'LONG.DAT');
    await writeLongLine(
      path,
      `${good}\r\n`,
      'ABC0002   ',
      2 * (1 << 20),
      `\r\n${good.replace('ABC0001', 'ABC0003')}\r\n`,
    );
    const { rows, rejects } = await readPath(path, layout);
    expect(rows.map((r) => [r.line, r.key])).toEqual([
      [1, 'ABC0001'],
      [3, 'ABC0003'],
    ]);
    expect(rejects.map((r) => [r.line, r.code, r.rawBytes])).toEqual([[2, 'ETL_PARSE_LINE_TOO_LONG', 2 * (1 << 20)]]);
  });
});

describe('U+0000 in a value', () => {
  it('rejects the row with its own code, naming the column, with the key still read', async () => {
    const { rows, rejects } = await read(
      [HEADER, 'ABC0001,WAL\0KER,Leo,,,ACTV', 'ABC0002,"WAL\0KER",Leo,,,ACTV', 'ABC0003,LEE,Ho,,,ACTV'].join('\n') +
        '\n',
    );
    expect(rows.map((r) => r.key)).toEqual(['ABC0003']);
    expect(rejects.map((r) => [r.line, r.key, r.field, r.code])).toEqual([
      [2, 'ABC0001', 'SURNAME', 'ETL_ROW_NUL'],
      [3, 'ABC0002', 'SURNAME', 'ETL_ROW_NUL'],
    ]);
    expect(rejects[0]?.message).not.toContain('WAL');
    // Kept for an admin as ␀: PostgreSQL text cannot hold U+0000, and both databases keep the same.
    expect(rejects[0]?.raw).toBe('ABC0001,WAL\u2400KER,Leo,,,ACTV');
  });

  it('in a key part leaves the row without a key', async () => {
    const { rejects } = await read([HEADER, 'ABC\u00000001,LEE,Ho,,,ACTV'].join('\n') + '\n');
    expect(rejects.map((r) => [r.key, r.field, r.code])).toEqual([[null, 'STKEY', 'ETL_ROW_NUL']]);
  });

  it('in a fixed-width line is rejected the same way', async () => {
    const registry = await loadLayouts(fixture('fixed', 'relationships.json'));
    const layout = registry.layoutForFileName('STUDENT.DAT') as TableLayout;
    const { rows, rejects } = await read(
      [datLine('ABC0001', 'WAL\0KER'), datLine('ABC0002', 'LEE', 'Ho')].join('\r\n') + '\r\n',
      layout,
    );
    expect(rows.map((r) => r.key)).toEqual(['ABC0002']);
    expect(rejects.map((r) => [r.line, r.key, r.field, r.code])).toEqual([[1, 'ABC0001', 'SURNAME', 'ETL_ROW_NUL']]);
  });

  it('in the header is still a header problem', async () => {
    const path = join(dir, 'nul-header.csv');
    await writeFile(path, 'STKEY,SUR\0NAME,FIRST_NAME\nABC0001,LEE,Ho\n');
    expect((await readPath(path, ST)).failure).toBe('ETL_PARSE_BAD_HEADER');
  });
});

describe('configuration of the line limits', () => {
  it('has defaults and reports every problem together', () => {
    expect(loadConfig({}).lines).toEqual({ maxLineBytes: 1048576, maxRejectLineBytes: 4096 });
    expect(loadConfig({ ETL_MAX_LINE_BYTES: '2048', ETL_MAX_REJECT_LINE_BYTES: '0' }).lines).toEqual({
      maxLineBytes: 2048,
      maxRejectLineBytes: 0,
    });
    expect(() =>
      loadConfig({ ETL_MAX_LINE_BYTES: '100', ETL_MAX_REJECT_LINE_BYTES: 'x', ETL_MAX_ERROR_RATE: '2' }),
    ).toThrow(
      expect.objectContaining({
        problems: expect.arrayContaining([
          'ETL_MAX_LINE_BYTES=100 must be at least 1024',
          'ETL_MAX_REJECT_LINE_BYTES="x" must be a whole number of 0 or more',
          expect.stringContaining('ETL_MAX_ERROR_RATE'),
        ]),
      }),
    );
    expect(() => loadConfig({ ETL_MAX_LINE_BYTES: '4096', ETL_MAX_REJECT_LINE_BYTES: '8192' })).toThrow(
      'ETL_MAX_REJECT_LINE_BYTES=8192 must be at most ETL_MAX_LINE_BYTES (4096)',
    );
  });
});

describe('notification text from the export', () => {
  it('is stripped of control characters and cut', () => {
    const file = `ST_8865\u0007\u001b[31m\u202e${'n'.repeat(5000)}.csv`;
    const message = runNotification(
      {
        runId: 7,
        school: '8865',
        status: 'failed',
        dryRun: false,
        reason: `ETL_PARSE_BAD_HEADER: column 3 ("${'h'.repeat(10_000)}\r\n\u0000") is not a name`,
        errors: [],
        stats: {
          files: 1,
          records: 3,
          rows: 2,
          rejected: 1,
          durationMs: 5,
          inserted: 0,
          updated: 0,
          deactivated: 0,
          reactivated: 0,
          held: 0,
          deferred: 0,
        },
        tables: [{ file, table: 'ST', rejected: 1, rejectsByCode: { ETL_PARSE_FIELD_COUNT: 1 }, error: null }],
      },
      'cli',
    );
    expect(message.details).toHaveLength(2);
    for (const line of message.details) {
      expect(line.length).toBeLessThanOrEqual(300);
      // eslint-disable-next-line no-control-regex
      expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
    }
    expect(message.details[1]).toMatch(/^ST_8865 \[31m n+…/);
  });
});
