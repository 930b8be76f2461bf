import { spawn, type ChildProcess } from 'node:child_process';
import { appendFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { discoverSource, type DiscoverOptions } from '../src/extract/index.js';
import { loadLayouts } from '../src/layouts/index.js';
import { fixture, stage, tempDir } from './helpers/fixtures.js';

const options: DiscoverOptions = { schoolId: null, requiredTables: ['ST', 'SF'], stableMs: 0, stableTimeoutMs: 0 };

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

/**
 * Another process appending a line to `path` every 20 ms, as an export still being written is.
 * A process of its own: a timer in the test's own process stalls whenever that process is busy
 * (discovery's own work, a loaded CI machine), and the file then looks settled when it is not.
 */
function busyWriter(path: string): ChildProcess {
  const script = `const fs = require('node:fs'); setInterval(() => fs.appendFileSync(${JSON.stringify(path)}, 'K,X\\r\\n'), 20);`;
  return spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
}

describe('discovery', () => {
  it('groups files by school, lists unknown files, and applies a delta only when it is newer than its base', async () => {
    await stage(dir, [
      { from: 'eduhub/good/ST_8865.csv', to: 'ST_8865.csv', ageSeconds: 7200 },
      { from: 'eduhub/good/ST_8865_D.csv', to: 'ST_8865_D.csv', ageSeconds: 3600 },
      { from: 'eduhub/good/SF_8865.csv', to: 'SF_8865.csv' },
      { from: 'eduhub/good/KGC_8865.csv', to: 'KGC_1234.csv' },
      { from: 'eduhub/good/ST_8865.csv', to: 'ST_1234.csv', ageSeconds: 60 },
      { from: 'eduhub/good/ST_8865_D.csv', to: 'ST_1234_D.csv', ageSeconds: 7200 },
      { from: 'eduhub/good/README.txt', to: 'README.txt' },
      { from: 'eduhub/good/README.txt', to: 'NOTATABLE_8865.csv' },
    ]);
    const registry = await loadLayouts(null);
    const d = await discoverSource(dir, registry, options);
    expect(
      d.fileSets.map((s) => [s.school, s.files.map((f) => `${f.name}:${f.tableId}:${f.mode}`), s.missingRequired]),
    ).toEqual([
      ['1234', ['KGC_1234.csv:KGC_1234:full', 'ST_1234.csv:ST_1234:full'], ['SF']],
      ['8865', ['SF_8865.csv:SF_8865:full', 'ST_8865.csv:ST_8865:full', 'ST_8865_D.csv:ST_8865:delta'], []],
    ]);
    expect(d.unknown).toEqual(['NOTATABLE_8865.csv', 'README.txt']);
    expect(d.notices.map((n) => n.code).sort()).toEqual(['ETL_SOURCE_STALE_DELTA', 'ETL_SOURCE_UNKNOWN_FILE']);
    expect(d.notices.find((n) => n.code === 'ETL_SOURCE_STALE_DELTA')?.file).toBe('ST_1234_D.csv');
  });

  it('keeps one school when asked, and says when it has no files', async () => {
    await stage(dir, [
      { from: 'eduhub/good/ST_8865.csv', to: 'ST_8865.csv' },
      { from: 'eduhub/good/ST_8865.csv', to: 'ST_1234.csv' },
    ]);
    const registry = await loadLayouts(null);
    expect(
      (await discoverSource(dir, registry, { ...options, onlySchool: '1234' })).fileSets.map((s) => s.school),
    ).toEqual(['1234']);
    const none = await discoverSource(dir, registry, { ...options, onlySchool: '9999' });
    expect(none.fileSets).toEqual([{ school: '9999', files: [], missingRequired: ['ST', 'SF'], conflicts: [] }]);
  });

  it('gives fixed-width files CASES_SCHOOL_ID, else the site in table_name', async () => {
    await stage(dir, [{ from: 'fixed/STUDENT.DAT', to: 'student.dat' }]);
    const registry = await loadLayouts(fixture('fixed', 'relationships.json'));
    const withId = await discoverSource(dir, registry, { ...options, schoolId: '4321' });
    expect(withId.fileSets.map((s) => [s.school, s.files.map((f) => f.tableId), s.missingRequired])).toEqual([
      ['4321', ['DF_4321'], []],
    ]);
    const fromName = await discoverSource(dir, registry, options);
    expect(fromName.fileSets[0]?.school).toBe('8865');
  });

  it('adds layouts marked required to the required tables', async () => {
    const { checkRelationshipsJson, createLayoutRegistry } = await import('../src/layouts/index.js');
    const file = checkRelationshipsJson(
      {
        file_layouts: {
          'STAFF.DAT': { table_name: 'SF_8865', required: true, columns: [{ name: 'SFKEY', start: 0, width: 4 }] },
        },
      },
      'x.json',
    ).file;
    await stage(dir, [
      { from: 'fixed/STUDENT.DAT', to: 'OTHER.DAT' },
      { from: 'eduhub/good/KCY_8865.csv', to: 'KCY_8865.csv' },
    ]);
    const d = await discoverSource(dir, createLayoutRegistry(file), options);
    expect(d.fileSets[0]?.missingRequired).toEqual(['SF', 'ST']);
  });

  it('keeps neither of two files for one table, says so, and counts the table as missing', async () => {
    await stage(dir, [
      { from: 'eduhub/good/ST_8865.csv', to: 'ST_8865.csv' },
      { from: 'eduhub/good/ST_8865.csv', to: 'st_8865.csv' },
      { from: 'eduhub/good/ST_8865_D.csv', to: 'ST_8865_D.csv', ageSeconds: 60 },
      { from: 'eduhub/good/SF_8865.csv', to: 'SF_8865.csv' },
    ]);
    const d = await discoverSource(dir, await loadLayouts(null), options);
    const set = d.fileSets[0];
    // A full file and its delta are not a conflict; the delta stays.
    expect(set?.files.map((f) => f.name)).toEqual(['SF_8865.csv', 'ST_8865_D.csv']);
    expect(set?.missingRequired).toEqual(['ST']);
    expect(set?.conflicts).toEqual([
      {
        table: 'ST',
        files: ['ST_8865.csv', 'st_8865.csv'],
        message:
          "ST_8865.csv and st_8865.csv are each the full extract of table ST; neither was loaded, since only one can be tonight's ST: remove or rename the other",
      },
    ]);
  });

  it("tells eduHub's DF_8865.csv and the seed's STUDENT.DAT apart as a conflict, not a mix", async () => {
    await stage(dir, [
      { from: 'eduhub/good/SF_8865.csv', to: 'DF_8865.csv' },
      { from: 'fixed/STUDENT.DAT', to: 'STUDENT.DAT' },
    ]);
    const d = await discoverSource(dir, await loadLayouts(null), { ...options, schoolId: '8865' });
    expect(d.fileSets[0]?.files).toEqual([]);
    expect(d.fileSets[0]?.conflicts.map((c) => c.message)).toEqual([
      "DF_8865.csv (eduHub CSV) and STUDENT.DAT (fixed-width) are each the full extract of table DF; neither was loaded, since only one can be tonight's DF: remove or rename the other",
    ]);
  });

  it("requires all four of the seed's .DAT files once one is read with its built-in layout, and none for eduHub", async () => {
    await stage(dir, [
      { from: 'fixed/STUDENT.DAT', to: 'STUDENT.DAT' },
      { from: 'fixed/STUDENT.DAT', to: 'STAFF.DAT' },
      { from: 'fixed/STUDENT.DAT', to: 'ENROL.DAT' },
      { from: 'eduhub/good/KCY_8865.csv', to: 'KCY_1234.csv' },
    ]);
    const registry = await loadLayouts(null);
    const d = await discoverSource(dir, registry, { ...options, schoolId: '8865' });
    expect(d.fileSets.map((s) => [s.school, s.files.map((f) => f.name), s.missingRequired])).toEqual([
      // The eduHub school next door needs only ETL_REQUIRED_TABLES.
      ['1234', ['KCY_1234.csv'], ['SF', 'ST']],
      ['8865', ['STUDENT.DAT', 'ENROL.DAT', 'STAFF.DAT'], ['PARENT']],
    ]);
    // A school whose relationships.json describes its own STUDENT.DAT is held to the seed's four
    // only while it also sends one of the others with its built-in layout.
    const ownLayouts = await loadLayouts(fixture('fixed', 'relationships.json'));
    const mixed = await discoverSource(dir, ownLayouts, { ...options, onlySchool: '8865', schoolId: '8865' });
    expect(mixed.fileSets[0]?.missingRequired).toEqual(['PARENT']);
    await Promise.all(['STAFF.DAT', 'ENROL.DAT'].map((f) => unlink(join(dir, f))));
    const own = await discoverSource(dir, ownLayouts, { ...options, onlySchool: '8865', schoolId: '8865' });
    expect(own.fileSets[0]?.missingRequired).toEqual([]);
  });

  it('waits for a file that is still being written, and skips one that never settles', async () => {
    const path = join(dir, 'ST_8865.csv');
    await writeFile(path, 'STKEY,SURNAME\r\n');
    const registry = await loadLayouts(null);
    // Keep appending for ~400 ms, then stop: discovery must wait and then take the finished file.
    let writes = 0;
    const writer = setInterval(() => void appendFile(path, `K${writes++},X\r\n`), 20);
    setTimeout(() => clearInterval(writer), 400);
    const settled = await discoverSource(dir, registry, { ...options, stableMs: 150, stableTimeoutMs: 5000 });
    expect(writes).toBeGreaterThan(5);
    expect(settled.unstable).toEqual([]);
    const file = settled.fileSets[0]?.files[0];
    const { stat } = await import('node:fs/promises');
    expect(file?.bytes).toBe((await stat(path)).size);

    const busy = busyWriter(path);
    try {
      await new Promise((r) => setTimeout(r, 300));
      // A file written every 20 ms must not look settled even when a loaded CI machine stalls the
      // writer for a few hundred milliseconds: settled here means unchanged for a whole second.
      const unsettled = await discoverSource(dir, registry, { ...options, stableMs: 1000, stableTimeoutMs: 3000 });
      expect(unsettled.unstable).toEqual(['ST_8865.csv']);
      expect(unsettled.notices.map((n) => n.code)).toContain('ETL_SOURCE_UNSTABLE');
      expect(unsettled.fileSets).toEqual([]);
    } finally {
      busy.kill();
    }
  });

  it("leaves other schools' files alone in a run for one school, even ones still being written", async () => {
    await stage(dir, [{ from: 'eduhub/good/ST_8865.csv', to: 'ST_8865.csv', ageSeconds: 7200 }]);
    const other = join(dir, 'ST_1234.csv');
    await writeFile(other, 'STKEY,SURNAME\r\n');
    const registry = await loadLayouts(null);
    const busy = busyWriter(other);
    try {
      await new Promise((r) => setTimeout(r, 300));
      const mine = await discoverSource(dir, registry, {
        ...options,
        onlySchool: '8865',
        stableMs: 250,
        stableTimeoutMs: 1000,
      });
      expect(mine.fileSets.map((s) => [s.school, s.files.map((f) => f.name)])).toEqual([['8865', ['ST_8865.csv']]]);
      expect(mine.unstable).toEqual([]);
      expect(mine.notices.map((n) => n.code)).not.toContain('ETL_SOURCE_UNSTABLE');
      // The whole folder's discovery still sees, and waits for, the file being written.
      const all = await discoverSource(dir, registry, { ...options, stableMs: 1000, stableTimeoutMs: 3000 });
      expect(all.unstable).toEqual(['ST_1234.csv']);
    } finally {
      busy.kill();
    }
  });

  it('fails clearly when the folder does not exist', async () => {
    const registry = await loadLayouts(null);
    await expect(discoverSource(join(dir, 'missing'), registry, options)).rejects.toMatchObject({
      code: 'ETL_SOURCE_NOT_FOUND',
    });
  });
});
