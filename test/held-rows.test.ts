import { createHash } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { runEtl, type EtlResult } from '../src/pipeline/index.js';
import { editCsv, readCsv, writeCsv } from './helpers/nights.js';
import { DIALECTS, useExportFolder } from './helpers/targets.js';

/**
 * A bad row never harms good data (issue 16): a rejected row keeps its last published version,
 * rejects with no readable key put the table's deactivations off to a clean night, a night is
 * judged against the school's latest published set, and an unreadable file fails the night.
 */
describe.each(DIALECTS)('rejected rows on %s', (dialect) => {
  const folder = useExportFolder(dialect);
  const st = (): string => join(folder.src, 'ST_8865.csv');
  const run = (options: Parameters<typeof runEtl>[0] = {}): Promise<EtlResult> =>
    runEtl({ config: folder.target.config({ CASES_DIRECTORY: folder.src }), notifier: null, ...options });
  const all = folder.query;
  const count = async (sql: string, params: unknown[] = []): Promise<number> => Number((await all(sql, params))[0]?.n);
  /** The first `n` student keys of the sample, in file order. */
  const keys = async (n: number, from = 0): Promise<string[]> => {
    const csv = await readCsv(st());
    const i = csv.header.indexOf('STKEY');
    return csv.rows.slice(from, from + n).map((r) => r[i] as string);
  };

  it('keeps students with impossible birth dates active with their previous values', async () => {
    const night1 = await run();
    expect(night1.status).toBe('succeeded');
    const typo = await keys(8);
    // The same rows also carry a new surname: a held row takes none of the night's values.
    await editCsv(st(), (rows, col) =>
      rows.map((r) =>
        typo.includes(r[col('STKEY')] as string)
          ? Object.assign([...r], { [col('BIRTHDATE')]: '31/02/2011 12:00:00 AM', [col('SURNAME')]: 'CHANGED' })
          : r,
      ),
    );
    const night2 = await run();
    expect(night2.status).toBe('warning');
    const table = night2.runs[0]?.tables.find((t) => t.table === 'ST');
    expect(table).toMatchObject({ rejected: 8, held: 8, deactivated: 0, deferred: 0, updated: 0 });
    expect(night2.stats).toMatchObject({ held: 8, deactivated: 0, deferred: 0 });
    const placeholders = typo.map(() => '?').join(', ');
    const rows = await all(
      `SELECT stkey, surname, _active AS active, _changed_run AS changed FROM cases_st WHERE stkey IN (${placeholders}) ORDER BY stkey`,
      typo,
    );
    expect(rows).toHaveLength(8);
    for (const r of rows) expect(r).toMatchObject({ active: 1, changed: night1.runId });
    expect(rows.some((r) => r.surname === 'CHANGED')).toBe(false);
    expect(await count(`SELECT count(*) AS n FROM students WHERE active`)).toBe(200);
    // Recorded wherever counts are: the run, its file, and nothing logged for the held rows.
    expect(await all(`SELECT held, deferred, deactivated FROM etl_runs WHERE id = ?`, [night2.runId])).toEqual([
      { held: 8, deferred: 0, deactivated: 0 },
    ]);
    expect(
      await all(`SELECT held, deferred FROM etl_run_files WHERE run_id = ? AND file_name = 'ST_8865.csv'`, [
        night2.runId,
      ]),
    ).toEqual([{ held: 8, deferred: 0 }]);
    expect(
      await count(`SELECT count(*) AS n FROM etl_changes WHERE run_id = ? AND table_name = 'ST'`, [night2.runId]),
    ).toBe(0);
  });

  it("defers a table's deactivations when rejects have no readable key, and the next clean night applies them", async () => {
    await run();
    const leavers = await keys(3);
    const blank = await keys(2, 10);
    const original = await readCsv(st());
    await editCsv(st(), (rows, col) =>
      rows
        .filter((r) => !leavers.includes(r[col('STKEY')] as string))
        .map((r) => (blank.includes(r[col('STKEY')] as string) ? Object.assign([...r], { [col('STKEY')]: '' }) : r)),
    );
    const night2 = await run();
    expect(night2.status).toBe('warning');
    expect(night2.runs[0]?.tables.find((t) => t.table === 'ST')).toMatchObject({
      rejected: 2,
      held: 0,
      deactivated: 0,
      deferred: 5,
    });
    expect(night2.runs[0]?.reason).toContain('ETL_LOAD_DEFERRED');
    expect(night2.runs[0]?.reason).toContain('ST_8865.csv');
    expect(await all(`SELECT error_code, deferred FROM etl_runs WHERE id = ?`, [night2.runId])).toEqual([
      { error_code: 'ETL_LOAD_DEFERRED', deferred: 5 },
    ]);
    expect(await count(`SELECT count(*) AS n FROM cases_st WHERE _active`)).toBe(200);

    // The keys are fixed; the leavers are still gone: now they are marked inactive, and only they.
    const i = original.header.indexOf('STKEY');
    await writeCsv(st(), {
      header: original.header,
      rows: original.rows.filter((r) => !leavers.includes(r[i] as string)),
    });
    const night3 = await run();
    expect(night3.status).toBe('succeeded');
    expect(night3.runs[0]?.tables.find((t) => t.table === 'ST')).toMatchObject({
      rejected: 0,
      deactivated: 3,
      deferred: 0,
    });
    const inactive = await all(`SELECT stkey FROM cases_st WHERE NOT _active ORDER BY stkey`);
    expect(inactive.map((r) => r.stkey)).toEqual([...leavers].sort());
  });

  it('loads night A again after night B: only the latest published set is skipped', async () => {
    const a = await run();
    const gone = await keys(3);
    const original = await readFile(st());
    await editCsv(st(), (rows, col) => rows.filter((r) => !gone.includes(r[col('STKEY')] as string)));
    const progress: Array<[number, number]> = [];
    const b = await run({
      onProgress: (e) =>
        void (e.kind === 'file-deactivate' && e.file === 'ST_8865.csv' && progress.push([e.done, e.total])),
    });
    expect(b.runs[0]?.tables.find((t) => t.table === 'ST')?.deactivated).toBe(3);
    // Deactivations say how far they have got: from none to all.
    expect(progress[0]).toEqual([0, 3]);
    expect(progress.at(-1)).toEqual([3, 3]);
    // Each deactivation logs the row's address and the bookkeeping it changed, before and after:
    // its values never change, so they are not written again.
    const logged = await all(
      `SELECT row_key, before, after FROM etl_changes WHERE run_id = ? AND op = 'deactivate' ORDER BY id`,
      [b.runId],
    );
    expect(logged.map((c) => c.row_key).sort()).toEqual([...gone].sort());
    const flag = (v: boolean): unknown => (dialect === 'sqlite' ? Number(v) : v);
    for (const c of logged) {
      const image = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v) as Record<string, unknown>;
      expect(image(c.before)).toEqual({
        school_id: '8865',
        stkey: c.row_key,
        _active: flag(true),
        _changed_run: a.runId,
        _deactivated_run: null,
      });
      expect(image(c.after)).toEqual({
        school_id: '8865',
        stkey: c.row_key,
        _active: flag(false),
        _changed_run: b.runId,
        _deactivated_run: b.runId,
      });
    }
    // Night A's exact bytes come back.
    await writeFile(st(), original);
    const again = await run();
    expect(again.status).toBe('succeeded');
    expect(again.runs[0]?.tables.find((t) => t.table === 'ST')?.reactivated).toBe(3);
    expect(await count(`SELECT count(*) AS n FROM cases_st WHERE _active`)).toBe(200);
    expect(await all(`SELECT fileset_sha256 AS f FROM etl_runs WHERE id = ?`, [again.runId])).toEqual(
      await all(`SELECT fileset_sha256 AS f FROM etl_runs WHERE id = ?`, [a.runId]),
    );
    // And the same folder once more is the latest published set: skipped.
    expect((await run()).runs[0]?.reason).toBe(`this file set was already published by run ${again.runId}`);
  });

  it('loads a small file from the very bytes its checksum was taken over, though it is rewritten mid-run', async () => {
    expect((await run()).status).toBe('succeeded');
    // Another night's set (so the run reads every checksum before it loads a file) ...
    await editCsv(join(folder.src, 'SU_8865.csv'), (rows) => rows.slice(0, -1));
    const before = await readFile(st());
    // Every student's surname (ST's second column), the header left as it is.
    const [header, ...lines] = (await readFile(st(), 'latin1')).split('\r\n');
    const rewritten = [header, ...lines.map((l) => l.replace(/^([^,]*),[^,]*/, '$1,REWRITTEN'))].join('\r\n');
    // ... during which ST is rewritten as soon as the first file starts to load.
    const night = await run({
      onProgress: (e) => {
        if (e.kind === 'file-start' && e.index === 0) writeFileSync(st(), rewritten, 'latin1');
      },
    });
    expect(night.status).toBe('succeeded');
    expect(await readFile(st(), 'latin1')).toBe(rewritten);
    // What was loaded is what the ledger's checksum describes: the file as it was read for it.
    expect(await count(`SELECT count(*) AS n FROM cases_st WHERE surname = 'REWRITTEN'`)).toBe(0);
    expect(
      await all(`SELECT sha256 FROM etl_run_files WHERE run_id = ? AND file_name = 'ST_8865.csv'`, [night.runId]),
    ).toEqual([{ sha256: createHash('sha256').update(before).digest('hex') }]);
  });

  it('fails the night when a file vanishes before it is read, and publishes the rest only with --override-guards', async () => {
    const vanish = (options: Parameters<typeof runEtl>[0] = {}) =>
      run({
        ...options,
        // Between discovery and reading (a file is first read for its checksum): SU (subjects,
        // not a required table) is removed.
        onProgress: (e) => {
          if (e.kind === 'school-start') rmSync(join(folder.src, 'SU_8865.csv'), { force: true });
        },
      });
    const { cp } = await import('node:fs/promises');
    const keep = join(folder.target.dir, 'SU_8865.csv');
    await cp(join(folder.src, 'SU_8865.csv'), keep);

    const failed = await vanish();
    expect(failed.status).toBe('failed');
    const su = failed.runs[0]?.tables.find((t) => t.file === 'SU_8865.csv');
    expect(su?.error).toMatch(/^ETL_SOURCE_UNREADABLE: cannot read .*SU_8865\.csv: ENOENT/);
    expect(failed.runs[0]?.guards.map((g) => g.code)).toEqual(['ETL_GUARD_UNREADABLE']);
    expect(await all(`SELECT status, error_code FROM etl_runs WHERE id = ?`, [failed.runId])).toEqual([
      { status: 'failed', error_code: 'ETL_GUARD_UNREADABLE' },
    ]);
    expect(
      String(
        (await all(`SELECT error FROM etl_run_files WHERE run_id = ? AND file_name = 'SU_8865.csv'`, [failed.runId]))[0]
          ?.error,
      ),
    ).toMatch(/^ETL_SOURCE_UNREADABLE: cannot read/);
    expect(await count(`SELECT count(*) AS n FROM etl_changes`)).toBe(0);

    await cp(keep, join(folder.src, 'SU_8865.csv'));
    const overridden = await vanish({ overrideGuards: true });
    expect(overridden.status).toBe('warning');
    expect(overridden.runs[0]?.guards).toEqual([
      expect.objectContaining({ code: 'ETL_GUARD_UNREADABLE', overridden: true }),
    ]);
    expect(await count(`SELECT count(*) AS n FROM cases_st WHERE _active`)).toBe(200);
    expect(
      String((await all(`SELECT overrides FROM etl_runs WHERE id = ?`, [overridden.runId]))[0]?.overrides),
    ).toContain('override-guards');
  });
});
