import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadBuiltinLayouts, type ColumnLayout, type TableLayout } from '../src/layouts/index.js';
import { runEtl } from '../src/pipeline/index.js';
import { DIALECTS, createTarget, type Target } from './helpers/targets.js';

/**
 * Every one of the 321 CASES21 v67 tables has a typed built-in layout: one row of each, written
 * from the schema itself (a value of each column's type, every column filled but bytes, which
 * eduHub's CSV never carries), loads on both databases with no reject, into a mirror table of
 * its own whose typed columns hold the values.
 */

/** A value of `column`'s type, as an eduHub export writes it. */
function valueFor(column: ColumnLayout, row: number): string {
  switch (column.type) {
    case 'string': {
      const text = `V${row}`;
      return text.slice(0, Math.max(1, column.maxLength ?? text.length));
    }
    case 'flag':
      return 'Y';
    case 'smallint':
    case 'int':
      return String(7 + row);
    case 'decimal':
      return '12.50';
    case 'float':
      return '0.25';
    case 'date':
    case 'datetime':
      return '9/05/2024 12:00:00 AM';
    case 'bytes':
      return '';
  }
}

/** A field for the CSV: quoted when it holds a comma or a quote. */
const csv = (v: string): string => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

async function writeExport(dir: string, layouts: ReadonlyMap<string, TableLayout>): Promise<number> {
  await mkdir(dir, { recursive: true });
  let files = 0;
  for (const [table, layout] of layouts) {
    if (layout.format !== 'csv') continue;
    const header = layout.columns.map((c) => c.name).join(',');
    const line = layout.columns.map((c) => csv(valueFor(c, 1))).join(',');
    await writeFile(join(dir, `${table}_8865.csv`), `${header}\r\n${line}\r\n`, 'latin1');
    files++;
  }
  return files;
}

describe.each(DIALECTS)('every built-in table on %s', (dialect) => {
  let target: Target;
  let layouts: ReadonlyMap<string, TableLayout>;
  beforeAll(async () => {
    target = await createTarget(dialect);
    layouts = loadBuiltinLayouts();
  });
  afterAll(async () => {
    await target.cleanup();
  });

  it('loads one row of each of the 321 tables, typed, with no reject', async () => {
    const dir = join(target.dir, 'export');
    expect(await writeExport(dir, layouts)).toBe(321);
    const result = await runEtl({ config: target.config({ CASES_DIRECTORY: dir }) });
    expect(result.errors).toEqual([]);
    expect(result.status).toBe('succeeded');
    expect(result.stats.rejected).toBe(0);
    expect(result.stats.inserted).toBe(321);

    const probe = await target.probe();
    try {
      for (const table of ['KGL', 'STVDI', 'TCTB', 'SXAS', 'KCT', 'ST']) {
        const rows = await probe.all(`SELECT count(*) AS n FROM cases_${table.toLowerCase()}`);
        expect(Number(rows[0]?.n), table).toBe(1);
      }
      // Typed: a datetime falls within its day, a number compares as a number (9 > 10 as text).
      const [st] = await probe.all(
        `SELECT count(*) AS n FROM cases_st WHERE lw_date >= '2024-05-09' AND lw_date < '2024-05-10' AND registration = 8 AND registration < 10 AND school_id = '8865'`,
      );
      expect(Number(st?.n)).toBe(1);
    } finally {
      await probe.close();
    }
  }, 300_000);
});
