import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  createChunkDecoder,
  DECODE_CHUNK_BYTES,
  encodeWindows1252,
  rawText,
  READ_CHUNK_BYTES,
  readCsvRecords,
  readFixedRecords,
  type RawRecord,
} from '../src/extract/index.js';
import { loadBuiltinLayouts, loadLayouts, type TableLayout } from '../src/layouts/index.js';
import type { Notice } from '../src/errors/index.js';
import { fixture, tempDir } from './helpers/fixtures.js';

const ST = loadBuiltinLayouts().get('ST') as TableLayout;

async function readCsv(path: string, layout: TableLayout = ST) {
  const notices: Notice[] = [];
  const problems: string[] = [];
  const records: RawRecord[] = [];
  let header: string[] = [];
  for await (const batch of readCsvRecords(
    path,
    'test.csv',
    layout,
    (n) => notices.push(n),
    (p) => problems.push(p.code),
  )) {
    header = batch.columns.columns.slice(0, batch.columns.present).map((c) => c.name);
    records.push(...batch.records);
  }
  return { notices, problems, records, header };
}

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

describe('decoding', () => {
  it('decodes Windows-1252 including the 0x80–0x9F block, and round-trips the encoder', () => {
    const bytes = Buffer.from([0x5a, 0x6f, 0xeb, 0x20, 0x80, 0x93, 0x94, 0x96, 0x81]);
    const dec = createChunkDecoder('windows-1252', bytes);
    expect(dec.write(bytes)).toBe('Zoë €“”–\uFFFD');
    expect(encodeWindows1252('Zoë Søren José €“”–')).toEqual(
      Buffer.from('5a6feb2053f872656e204a6f73e92080939496', 'hex'),
    );
    expect(encodeWindows1252('日本')).toEqual(Buffer.from('??'));
  });

  it('switches to UTF-8 on a byte-order mark, whatever the layout says', () => {
    const bytes = Buffer.from([0xef, 0xbb, 0xbf, 0x5a, 0x6f, 0xc3, 0xab]);
    const dec = createChunkDecoder('windows-1252', bytes);
    expect(dec.encoding).toBe('utf-8');
    expect(dec.bomLength).toBe(3);
    expect(dec.write(bytes.subarray(3))).toBe('Zoë');
  });
});

describe('CSV reading', () => {
  it('reads quoted commas, doubled quotes and line breaks, with the line each record starts on', async () => {
    const { records, notices, problems, header } = await readCsv(fixture('eduhub', 'good', 'ST_8865.csv'));
    expect(problems).toEqual([]);
    expect(header).toEqual([
      'STKEY',
      'SURNAME',
      'FIRST_NAME',
      'PREF_NAME',
      'BIRTHDATE',
      'GENDER',
      'STATUS',
      'SCHOOL_YEAR',
      'HOME_GROUP',
      'REGISTRATION',
      'NOTES',
    ]);
    expect(records.map((r) => r.line)).toEqual([2, 3, 4, 6, 7]);
    expect(records[0]?.fields[2]).toBe('Zoë');
    expect(records[1]?.fields[10]).toBe('Allergic to nuts, carries EpiPen');
    expect(records[2]?.fields[1]).toBe('SMITH, JR');
    expect(records[2]?.fields[10]).toBe('Likes to be called "Sorry"\nSecond line of notes');
    // The last record has no line break after it, and its last field is empty.
    expect(records[4]?.fields).toHaveLength(11);
    expect(records[4]?.fields[10]).toBe('');
    expect(rawText(records[2] as RawRecord)).toBe(
      'ABC0003,"SMITH, JR",Søren,,1/01/2010 12:00:00 AM,M,FUT,09,09C,1003,"Likes to be called ""Sorry""\nSecond line of notes"',
    );
    expect(notices.map((n) => n.code)).toEqual(['ETL_PARSE_MISSING_COLUMNS']);
  });

  it('accepts LF-only and CR-only line endings', async () => {
    const kgc = await readCsv(
      fixture('eduhub', 'good', 'KGC_8865.csv'),
      loadBuiltinLayouts().get('KGC') as TableLayout,
    );
    expect(kgc.records.map((r) => [r.line, r.fields[0]])).toEqual([
      [2, '10A'],
      [3, '11B'],
    ]);
    const kcy = await readCsv(
      fixture('eduhub', 'good', 'KCY_8865.csv'),
      loadBuiltinLayouts().get('KCY') as TableLayout,
    );
    expect(kcy.records.map((r) => [r.line, r.fields[0], r.fields[1]])).toEqual([
      [2, 'YR09', 'Year 9'],
      [3, 'YR10', 'Year 10'],
    ]);
  });

  it('counts every line ending in a file that mixes CRLF, CR and LF', async () => {
    const path = join(dir, 'mixed-endings.csv');
    // After K3, a CR on its own then a CRLF: two line endings, so K4 is on line 6.
    await writeFile(path, 'STKEY,SURNAME\r\nK1,A\rK2,B\nK3,C\r\r\nK4,D\r\n\nK5,E');
    const { records } = await readCsv(path);
    expect(records.map((r) => [r.line, r.fields[0], r.fields[1]])).toEqual([
      [2, 'K1', 'A'],
      [3, 'K2', 'B'],
      [4, 'K3', 'C'],
      [6, 'K4', 'D'],
      [8, 'K5', 'E'],
    ]);
  });

  it('maps columns by header name, not position, and reports unknown columns once', async () => {
    const path = join(dir, 'reordered.csv');
    await writeFile(path, encodeWindows1252('SURNAME,SHOE_SIZE,STKEY\r\nNGUYEN,7,ABC1\r\nLEE,8,ABC2\r\n'));
    const { records, notices, header } = await readCsv(path);
    expect(header).toEqual(['SURNAME', 'SHOE_SIZE', 'STKEY']);
    expect(records.map((r) => r.fields)).toEqual([
      ['NGUYEN', '7', 'ABC1'],
      ['LEE', '8', 'ABC2'],
    ]);
    const unknown = notices.filter((n) => n.code === 'ETL_PARSE_UNKNOWN_COLUMN');
    expect(unknown).toHaveLength(1);
    expect(unknown[0]?.message).toContain('SHOE_SIZE');
  });

  it('keeps line numbers right across chunk boundaries, CRLF split between chunks and quoted breaks', async () => {
    const path = join(dir, 'big.csv');
    const rows: string[] = ['STKEY,SURNAME,NOTES'];
    let expectedLine = 2;
    const expected: Array<[number, string]> = [];
    for (let i = 0; i < 30_000; i++) {
      const multi = i % 97 === 0;
      rows.push(`K${i},NAME${'X'.repeat(i % 120)},${multi ? '"first, line\r\nsecond ""line"""' : 'plain'}`);
      expected.push([expectedLine, `K${i}`]);
      expectedLine += multi ? 2 : 1;
    }
    await writeFile(path, encodeWindows1252(rows.join('\r\n') + '\r\n'));
    const { records, problems } = await readCsv(path);
    expect(problems).toEqual([]);
    expect(records.map((r) => [r.line, r.fields[0]])).toEqual(expected);
    expect(records.filter((r) => r.problem)).toEqual([]);
    expect(records[97]?.fields[2]).toBe('first, line\nsecond "line"');
  });

  it.each([
    ['read', READ_CHUNK_BYTES],
    ['decoded stretch', DECODE_CHUNK_BYTES],
  ])('joins a CRLF that the boundary of a %s splits', async (_, boundary) => {
    const path = join(dir, `split-crlf-${boundary}.csv`);
    const head = 'STKEY,SURNAME,NOTES\r\n';
    // The first row's CR is the last byte before the boundary; its LF the first byte after it.
    const pad = boundary - head.length - 'K1,,x'.length - 1;
    await writeFile(path, `${head}K1,${'A'.repeat(pad)},x\r\nK2,B,y\r\n`);
    const { records } = await readCsv(path);
    expect(records.map((r) => [r.line, r.fields[0], r.fields[2]])).toEqual([
      [2, 'K1', 'x'],
      [3, 'K2', 'y'],
    ]);
  });

  it('rejects only the line of a broken quote and reads on', async () => {
    const bad = await readCsv(fixture('eduhub', 'broken', 'bad-quote.csv'));
    expect(bad.records.map((r) => [r.line, r.problem?.code ?? null])).toEqual([
      [2, null],
      [3, 'ETL_PARSE_BAD_QUOTE'],
      [4, null],
    ]);
    const open = await readCsv(fixture('eduhub', 'broken', 'unterminated-quote.csv'));
    expect(open.records.map((r) => [r.line, r.problem?.code ?? null, r.fields[0] ?? null])).toEqual([
      [2, null, 'ABC0001'],
      [3, 'ETL_PARSE_UNTERMINATED_QUOTE', null],
      [4, null, 'ABC0003'],
      [5, null, 'ABC0004'],
    ]);
    expect(open.records[3]?.fields[10]).toBe('Notes, fine');
  });

  it('gives up on a quote that swallows more than a megabyte and resumes on the next line', async () => {
    const path = join(dir, 'runaway.csv');
    const tail = Array.from(
      { length: 40_000 },
      (_, i) => `K${i + 2},SURNAME${i},notes without any quote characters at all`,
    ).join('\r\n');
    await writeFile(path, encodeWindows1252(`STKEY,SURNAME,NOTES\r\nK1,"RUNAWAY,x\r\n${tail}\r\n`));
    const { records } = await readCsv(path);
    expect(records[0]).toMatchObject({ line: 2, problem: { code: 'ETL_PARSE_UNTERMINATED_QUOTE' } });
    expect(records).toHaveLength(40_001);
    expect(records[40_000]).toMatchObject({ line: 40_002, problem: null });
  });

  it('flags UTF-8 text read as Windows-1252, and undecodable bytes', async () => {
    const wrong = await readCsv(fixture('eduhub', 'broken', 'wrong-encoding.csv'));
    expect(wrong.records[0]?.problem).toMatchObject({ code: 'ETL_PARSE_ENCODING_MISMATCH', field: 'FIRST_NAME' });
    expect(wrong.records[1]?.problem).toBeNull();
    const path = join(dir, 'latin-in-utf8.csv');
    await writeFile(
      path,
      Buffer.concat([Buffer.from('STKEY,SURNAME\r\nK1,Zo'), Buffer.from([0xeb]), Buffer.from('\r\n')]),
    );
    const utf8 = await readCsv(path, { ...ST, encoding: 'utf-8' });
    expect(utf8.records[0]?.problem).toMatchObject({ code: 'ETL_PARSE_ENCODING_INVALID', field: 'SURNAME' });
  });

  it('treats an empty file and a header without the key as unreadable', async () => {
    expect((await readCsv(fixture('eduhub', 'broken', 'empty.csv'))).problems).toEqual(['ETL_PARSE_EMPTY_FILE']);
    expect((await readCsv(fixture('eduhub', 'broken', 'no-key-column.csv'))).problems).toEqual([
      'ETL_PARSE_KEY_COLUMN_MISSING',
    ]);
    const path = join(dir, 'dup-header.csv');
    await writeFile(path, 'STKEY,SURNAME,SURNAME\r\nK1,A,B\r\n');
    expect((await readCsv(path)).problems).toEqual(['ETL_PARSE_DUPLICATE_HEADER']);
  });

  it('refuses header names that are reserved, cannot be SQL names, or would be one column, naming the column', async () => {
    const long = 'X'.repeat(70);
    const cases: Array<[string, string, RegExp]> = [
      ['STKEY,SURNAME,SCHOOL_ID', 'ETL_PARSE_RESERVED_HEADER', /^header column 3 is SCHOOL_ID, a reserved name/],
      ['STKEY,_hash,SURNAME', 'ETL_PARSE_RESERVED_HEADER', /^header column 2 is _hash/],
      ['STKEY,SURNAME,_ACTIVE', 'ETL_PARSE_RESERVED_HEADER', /column 3 is _ACTIVE/],
      [
        'STKEY,SURNAME,',
        'ETL_PARSE_BAD_HEADER',
        /^header column 3 is empty \(a trailing comma on the header line\?\)$/,
      ],
      ['STKEY, ,SURNAME', 'ETL_PARSE_BAD_HEADER', /^header column 2 is empty$/],
      ['STKEY,SUR\0NAME', 'ETL_PARSE_BAD_HEADER', /^header column 2 \("SUR\?NAME"\) contains a control character$/],
      [
        `STKEY,${long}A,${long}B`,
        'ETL_PARSE_BAD_HEADER',
        /^header column 2 \("X{64}…"\) is 71 bytes long; names may be at most 63 bytes/,
      ],
      [`STKEY,${'É'.repeat(32)}`, 'ETL_PARSE_BAD_HEADER', /is 64 bytes long/],
      [
        'STKEY,Surname,SURNAME',
        'ETL_PARSE_DUPLICATE_HEADER',
        /^the header names column SURNAME twice \(columns 2 and 3, ignoring case\)$/,
      ],
    ];
    for (const [header, code, message] of cases) {
      const path = join(dir, 'bad-header.csv');
      // Windows-1252, as eduHub writes: É is one byte in the file and two in UTF-8.
      await writeFile(path, Buffer.from(`${header}\r\nK1,A,B\r\n`, 'latin1'));
      const problems: Array<{ code: string; message: string }> = [];
      const batches = [];
      for await (const batch of readCsvRecords(
        path,
        'test.csv',
        ST,
        () => undefined,
        (p) => problems.push(p),
      ))
        batches.push(batch);
      expect(batches, header).toEqual([]);
      expect(problems, header).toHaveLength(1);
      expect(problems[0]?.code, header).toBe(code);
      expect(problems[0]?.message, header).toMatch(message);
    }
    // 63 bytes is allowed: the limit is PostgreSQL's, not lower.
    const path = join(dir, 'long-ok.csv');
    await writeFile(path, `STKEY,${'Y'.repeat(63)}\r\nK1,A\r\n`);
    expect((await readCsv(path)).problems).toEqual([]);
  });
});

describe('fixed-width reading', () => {
  it('slices columns by position and reports short, long and tabbed lines one by one', async () => {
    const registry = await loadLayouts(fixture('fixed', 'relationships.json'));
    const layout = registry.layoutForFileName('STUDENT.DAT') as TableLayout;
    const records: RawRecord[] = [];
    for await (const batch of readFixedRecords(fixture('fixed', 'STUDENT.DAT'), layout)) records.push(...batch.records);
    expect(records.map((r) => [r.line, r.fields[0], r.problem?.code ?? null])).toEqual([
      [1, 'ABC0001', null],
      [2, 'ABC0002', 'ETL_PARSE_SHORT_LINE'],
      [3, 'ABC0003', 'ETL_PARSE_LONG_LINE'],
      [4, 'ABC0004', 'ETL_PARSE_TAB'],
      [5, 'ABC0005', null],
      [6, 'ABC0006', null],
    ]);
    expect(records[0]?.fields).toEqual(['ABC0001', 'NGUYEN', 'Zoë', '20090205', 'ACTV']);
    expect(records[1]?.problem?.message).toContain('columns FIRST_NAME, BIRTHDATE, STATUS are cut short');
    expect(records[3]?.problem?.field).toBe('FIRST_NAME');
  });

  it('trims each field as String.prototype.trim does, and skips lines of white space only', async () => {
    const registry = await loadLayouts(fixture('fixed', 'relationships.json'));
    const layout = registry.layoutForFileName('STUDENT.DAT') as TableLayout;
    // Every character trim() removes, some it keeps (U+180E, U+200B, U+0085, U+001F), and text.
    const pool = [
      ' ',
      '\t',
      '\v',
      '\f',
      '\u00a0',
      '\u1680',
      '\u2000',
      '\u2005',
      '\u200a',
      '\u2028',
      '\u2029',
      '\u202f',
      '\u205f',
      '\u3000',
      '\ufeff',
      '\u180e',
      '\u200b',
      '\u0085',
      '\u001f',
      'a',
      'Z',
      'ë',
    ];
    const widths = layout.columns.map((c) => c.width ?? 0);
    let seed = 7;
    const pick = (): string => pool[(seed = (seed * 1103515245 + 12345) % 2147483648) % pool.length] as string;
    const lines: string[] = [];
    for (let i = 0; i < 400; i++)
      lines.push(
        widths.map((w, c) => (c === 0 ? `K${i}`.padEnd(w, ' ') : Array.from({ length: w }, pick).join(''))).join(''),
      );
    // No tab may sit inside a record (it is rejected); ones in the pool land in rejected lines only.
    const blankLine = ' \u00a0\u3000\ufeff ';
    const path = join(dir, 'trim.dat');
    await writeFile(path, `\ufeff${[lines[0], blankLine, ...lines.slice(1)].join('\r\n')}\r\n`);
    const records: RawRecord[] = [];
    for await (const batch of readFixedRecords(path, layout)) records.push(...batch.records);
    expect(records).toHaveLength(lines.length);
    expect(records[1]?.line).toBe(3);
    for (const [i, r] of records.entries()) {
      const text = lines[i] as string;
      const expected = layout.columns.map((c) => text.slice(c.start ?? 0, (c.start ?? 0) + (c.width ?? 0)).trim());
      expect(r.fields).toEqual(expected);
      expect(r.problem?.code ?? null).toBe(text.includes('\t') ? 'ETL_PARSE_TAB' : null);
    }
  });
});
