import { describe, expect, it } from 'vitest';

import { type TableLayout, loadBuiltinLayouts, loadLayouts } from '../src/layouts/index.js';
import { inspectFile } from '../src/pipeline/index.js';
import { converterFor, isFailure, parseDate } from '../src/validate/index.js';
import { columnLayout, fixture, sourceFile } from './helpers/fixtures.js';

const ST = loadBuiltinLayouts().get('ST') as TableLayout;

const col = columnLayout;

describe('dates', () => {
  it('parses eduHub, YYYYMMDD and ISO forms into one canonical form', () => {
    expect(parseDate('5/02/2019 12:00:00 AM', 'auto', true)).toEqual({ ok: true, value: '2019-02-05 00:00:00' });
    expect(parseDate('5/02/2019 12:30:05 PM', 'eduhub', true)).toEqual({ ok: true, value: '2019-02-05 12:30:05' });
    expect(parseDate('15/11/2008 1:05:00 PM', 'auto', true)).toEqual({ ok: true, value: '2008-11-15 13:05:00' });
    expect(parseDate('5/02/2019', 'auto', false)).toEqual({ ok: true, value: '2019-02-05' });
    expect(parseDate('20190205', 'yyyymmdd', false)).toEqual({ ok: true, value: '2019-02-05' });
    expect(parseDate('00000000', 'yyyymmdd', false)).toEqual({ ok: true, value: null });
    expect(parseDate('2019-02-05T08:15:00', 'iso', true)).toEqual({ ok: true, value: '2019-02-05 08:15:00' });
    expect(parseDate('29/02/2020 12:00:00 AM', 'auto', false)).toEqual({ ok: true, value: '2020-02-29' });
  });

  it('rejects impossible dates and the wrong shape', () => {
    expect(parseDate('31/02/2019 12:00:00 AM', 'auto', true)).toEqual({ ok: false, reason: 'calendar' });
    expect(parseDate('29/02/2019', 'auto', true)).toEqual({ ok: false, reason: 'calendar' });
    expect(parseDate('29/02/1900', 'auto', true)).toEqual({ ok: false, reason: 'calendar' });
    expect(parseDate('5/02/2019 13:00:00 PM', 'auto', true)).toEqual({ ok: false, reason: 'calendar' });
    expect(parseDate('20191301', 'auto', true)).toEqual({ ok: false, reason: 'calendar' });
    expect(parseDate('5/02/2019', 'yyyymmdd', true)).toEqual({ ok: false, reason: 'shape' });
    expect(parseDate('20190205', 'eduhub', true)).toEqual({ ok: false, reason: 'shape' });
    expect(parseDate('next tuesday', 'auto', true)).toEqual({ ok: false, reason: 'shape' });
  });
});

describe('converters', () => {
  it('convert each type and fail without echoing the value', () => {
    const int = converterFor(col({ name: 'N', type: 'smallint' }));
    expect(int(' 42 ')).toBe(42);
    expect(int('-32768')).toBe(-32768);
    expect(int('40000')).toMatchObject({ code: 'ETL_TYPE_INT_RANGE' });
    expect(int('4.5')).toMatchObject({ code: 'ETL_TYPE_INT', message: 'N must be a whole number' });
    const dec = converterFor(col({ type: 'decimal' }));
    expect(dec('12.50')).toBe('12.50');
    expect(dec('+3')).toBe('3');
    expect(dec('1,000.00')).toMatchObject({ code: 'ETL_TYPE_DECIMAL' });
    expect(converterFor(col({ type: 'float' }))('1.5e3')).toBe(1500);
    const text = converterFor(col({ name: 'SURNAME', maxLength: 5 }));
    expect(text('LEE')).toBe('LEE');
    const long = text('NGUYENS');
    expect(isFailure(long) && long.message).toBe('SURNAME has 7 characters, the column allows 5');
    expect(converterFor(col({ type: 'flag', maxLength: 1 }))('Y')).toBe('Y');
    expect(converterFor(col({ type: 'bytes' }))('0xFFD8')).toBeNull();
    const date = converterFor(col({ name: 'BIRTHDATE', type: 'datetime' }))('31/02/2019 12:00:00 AM');
    expect(date).toMatchObject({ code: 'ETL_TYPE_DATE_INVALID' });
    expect(JSON.stringify(date)).not.toContain('2019');
  });
});

describe('row rules on fixture files', () => {
  const inspect = (name: string, layout: TableLayout = ST) =>
    inspectFile(sourceFile(fixture('eduhub', ...name.split('/')), layout), 20);

  it('accepts a clean file with no rejects', async () => {
    const report = await inspect('good/ST_8865.csv');
    expect(report).toMatchObject({ records: 5, rows: 5, rejectedRows: 0, error: null });
  });

  it('rejects 31/02/2019 and other bad dates, naming line, key and field', async () => {
    const report = await inspect('broken/bad-date.csv');
    expect(report.rows).toBe(1);
    expect(report.examples.map((r) => [r.line, r.key, r.field, r.code])).toEqual([
      [2, 'ABC0001', 'BIRTHDATE', 'ETL_TYPE_DATE_INVALID'],
      [3, 'ABC0002', 'BIRTHDATE', 'ETL_TYPE_DATE_INVALID'],
      [4, 'ABC0003', 'BIRTHDATE', 'ETL_TYPE_DATE'],
    ]);
    expect(report.examples[0]?.raw).toBe('ABC0001,NGUYEN,Zoë,,31/02/2019 12:00:00 AM,F,ACTV,10,10A,1001,');
    expect(report.examples[0]?.file).toBe('bad-date.csv');
  });

  it('keeps the first of duplicate keys and rejects the rest', async () => {
    const report = await inspect('broken/duplicate-keys.csv');
    expect(report.rows).toBe(2);
    expect(report.examples).toEqual([
      expect.objectContaining({
        line: 4,
        key: 'ABC0001',
        code: 'ETL_ROW_DUPLICATE_KEY',
        message: 'the key already appeared on line 2; the first row is kept',
      }),
    ]);
  });

  it('rejects a missing key', async () => {
    const report = await inspect('broken/missing-key.csv');
    expect(report.examples).toEqual([
      expect.objectContaining({ line: 3, key: null, field: 'STKEY', code: 'ETL_ROW_KEY_MISSING' }),
    ]);
  });

  it('reports lengths, ranges, bad numbers, required fields and field counts, and loses nothing else', async () => {
    const report = await inspect('broken/too-long.csv');
    expect(report.examples.map((r) => [r.line, r.field, r.code])).toEqual([
      [2, 'SURNAME', 'ETL_ROW_TOO_LONG'],
      [3, 'REGISTRATION', 'ETL_TYPE_INT_RANGE'],
      [4, 'REGISTRATION', 'ETL_TYPE_INT'],
      [5, 'REGISTRATION', 'ETL_ROW_REQUIRED'],
      [6, null, 'ETL_PARSE_FIELD_COUNT'],
    ]);
    expect(report.rejectsByCode).toEqual({
      ETL_ROW_TOO_LONG: 1,
      ETL_TYPE_INT_RANGE: 1,
      ETL_TYPE_INT: 1,
      ETL_ROW_REQUIRED: 1,
      ETL_PARSE_FIELD_COUNT: 1,
    });
  });

  it('records every failure of a row, and counts the row once', async () => {
    const { writeFile } = await import('node:fs/promises');
    const { tempDir } = await import('./helpers/fixtures.js');
    const { dir, cleanup } = await tempDir();
    try {
      const path = `${dir}/two-faults.csv`;
      await writeFile(path, 'STKEY,BIRTHDATE,REGISTRATION\r\nK1,31/02/2019,x\r\nK2,1/02/2019,2\r\n');
      const report = await inspectFile(sourceFile(path, ST), 10);
      expect(report).toMatchObject({ records: 2, rows: 1, rejectedRows: 1 });
      expect(report.examples.map((r) => [r.line, r.field])).toEqual([
        [2, 'BIRTHDATE'],
        [2, 'REGISTRATION'],
      ]);
    } finally {
      await cleanup();
    }
  });

  it('names the file and line for the bad quote and the wrong encoding', async () => {
    const quote = await inspect('broken/bad-quote.csv');
    // A broken quote may have moved anything into the key's place: no key is read from the line.
    expect(quote.examples).toEqual([
      expect.objectContaining({ file: 'bad-quote.csv', line: 3, key: null, code: 'ETL_PARSE_BAD_QUOTE' }),
    ]);
    const enc = await inspect('broken/wrong-encoding.csv');
    expect(enc.examples).toEqual([
      expect.objectContaining({
        file: 'wrong-encoding.csv',
        line: 2,
        key: 'ABC0001',
        field: 'FIRST_NAME',
        code: 'ETL_PARSE_ENCODING_MISMATCH',
      }),
    ]);
  });

  it('reads a fixed-width file through its layout: types, dates and per-line problems', async () => {
    const registry = await loadLayouts(fixture('fixed', 'relationships.json'));
    const layout = registry.layoutForFileName('STUDENT.DAT') as TableLayout;
    const report = await inspectFile(sourceFile(fixture('fixed', 'STUDENT.DAT'), layout), 10);
    expect(report).toMatchObject({ records: 6, rows: 2, rejectedRows: 4 });
    expect(report.examples.map((r) => [r.line, r.key, r.code])).toEqual([
      [2, 'ABC0002', 'ETL_PARSE_SHORT_LINE'],
      [3, 'ABC0003', 'ETL_PARSE_LONG_LINE'],
      [4, 'ABC0004', 'ETL_PARSE_TAB'],
      [5, 'ABC0005', 'ETL_TYPE_DATE_INVALID'],
    ]);
  });

  it('says why a table without a key cannot be read', async () => {
    const registry = await loadLayouts(fixture('relationships.json'));
    const stssb = registry.layoutFor('STSSB') as TableLayout;
    const report = await inspectFile(sourceFile(fixture('eduhub', 'good', 'KCY_8865.csv'), stssb), 10);
    expect(report.error).toMatchObject({ code: 'ETL_LAYOUT_NO_KEY' });
    expect(report.error?.message).toContain('STSSB');
  });
});
