import { join } from 'node:path';

import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { rollbackRun, runEtl, type EtlResult } from '../src/pipeline/index.js';
import { editCsv } from './helpers/nights.js';
import { DIALECTS, useExportFolder } from './helpers/targets.js';

/**
 * A file exactly as its table was last loaded from (same bytes, read the same way, every row
 * kept) is not read past its header: every row is unchanged and nothing is deactivated, which is
 * what reading it would find (plan/unchanged.ts). Whatever could make reading it find something
 * else makes it read: a rollback since, rejects last time, another way of reading, a table
 * emptied behind the ledger's back, or --reread.
 */
describe.each(DIALECTS)('repeated loads on %s', (dialect) => {
  const folder = useExportFolder(dialect);
  const run = (options: Parameters<typeof runEtl>[0] = {}, env: Record<string, string> = {}): Promise<EtlResult> =>
    runEtl({ config: folder.target.config({ CASES_DIRECTORY: folder.src, ...env }), notifier: null, ...options });
  const all = folder.query;
  /** Changes the database behind the pipeline's back (the SQLite probe only reads). */
  const write = async (sql: string): Promise<void> => {
    if (dialect === 'postgres') return void (await all(sql));
    const db = new BetterSqlite3(String(folder.target.env.DATABASE_URL).replace(/^sqlite:/, ''));
    try {
      db.exec(sql);
    } finally {
      db.close();
    }
  };
  const count = async (sql: string): Promise<number> => Number((await all(sql))[0]?.n);
  const tables = (r: EtlResult) => r.runs[0]?.tables ?? [];
  const table = (r: EtlResult, name: string) => tables(r).find((t) => t.table === name);
  /** Each table's counts, with how it was read left out: what the school sees. */
  const outcome = (r: EtlResult) => tables(r).map(({ unchangedSince: _u, known: _k, ...counts }) => counts);
  const mirror = async (name: string) =>
    all(`SELECT * FROM ${name} ORDER BY ${name === 'cases_st' ? 'stkey' : 'sukey'}`);

  it('does not read again a file its table was last loaded from, and ends where reading it ends', async () => {
    const first = await run();
    expect(first.status).toBe('succeeded');
    expect(tables(first).every((t) => t.unchangedSince === null)).toBe(true);
    const stored = await mirror('cases_st');

    const forced = await run({ force: true });
    expect(forced.status).toBe('succeeded');
    expect(tables(forced).map((t) => t.unchangedSince)).toEqual(tables(first).map(() => first.runId));
    // Counted as reading would count them: every row unchanged, none inserted or deactivated.
    for (const t of tables(forced)) {
      const before = table(first, t.table);
      expect(t).toMatchObject({ rows: before?.rows, known: before?.rows, unchanged: before?.rows, inserted: 0 });
    }
    const reread = await run({ reread: true });
    expect(tables(reread).every((t) => t.unchangedSince === null && t.known === 0)).toBe(true);
    expect(outcome(reread)).toEqual(outcome(forced));
    expect(await mirror('cases_st')).toEqual(stored);
    expect(await count(`SELECT count(*) AS n FROM etl_changes WHERE run_id <> ${first.runId}`)).toBe(0);

    // The ledger says which run each file repeated, and how every file was read.
    const files = await all(
      `SELECT run_id, file_name, read_as, unchanged_since FROM etl_run_files WHERE file_name = 'ST_8865.csv' ORDER BY run_id`,
    );
    expect(files.map((f) => Number(f.unchanged_since ?? 0))).toEqual([0, first.runId, 0]);
    expect(new Set(files.map((f) => f.read_as)).size).toBe(1);
    expect(String(files[0]?.read_as)).toMatch(/^[0-9a-f]{64}$/);
    expect(
      await all(`SELECT overrides FROM etl_runs WHERE id = ?`, [reread.runId]).then((r) => String(r[0]?.overrides)),
    ).toContain('reread');
  });

  it('reads only the files that changed, and a file last loaded with rejects every time', async () => {
    await run();
    await editCsv(join(folder.src, 'SU_8865.csv'), (rows, col) =>
      rows.map((r, i) => (i === 0 ? Object.assign([...r], { [col('FULLNAME')]: 'Renamed' }) : r)),
    );
    const second = await run();
    expect(table(second, 'SU')).toMatchObject({ unchangedSince: null, updated: 1 });
    expect(
      tables(second)
        .filter((t) => t.unchangedSince === null)
        .map((t) => t.table),
    ).toEqual(['SU']);

    // A student twice: the second is rejected, so ST's load had a reject ...
    await editCsv(join(folder.src, 'ST_8865.csv'), (rows) => [...rows, rows[0] as string[]]);
    const third = await run();
    expect(third.status).toBe('warning');
    expect(table(third, 'ST')).toMatchObject({ unchangedSince: null, rejected: 1 });
    // ... and is read again each night, so the reject is found and reported again.
    const fourth = await run({ force: true });
    expect(table(fourth, 'ST')).toMatchObject({ unchangedSince: null, rejected: 1 });
    expect(fourth.status).toBe('warning');
    // SU is as night 3 found it (night 3 repeated night 2's load, and counts as SU's last load).
    expect(table(fourth, 'SU')?.unchangedSince).toBe(third.runId);
  });

  it('reads a file again after the run that loaded it was rolled back, and after its table was emptied', async () => {
    const first = await run();
    const night1 = await mirror('cases_su');
    await editCsv(join(folder.src, 'SU_8865.csv'), (rows) => rows.slice(0, -3));
    const second = await run();
    expect(table(second, 'SU')).toMatchObject({ unchangedSince: null, deactivated: 3 });
    await rollbackRun(second.runId as number, { config: folder.target.config({}), requestedBy: 'test' });
    expect(await mirror('cases_su')).toEqual(night1);

    // SU is now as night 1 left it, so night 2's file must be read (and its three rows go again)...
    const again = await run({ force: true });
    expect(table(again, 'SU')).toMatchObject({ unchangedSince: null, deactivated: 3 });
    // ... while night 1's files that night 2 repeated were last loaded by night 1 (night 2 is undone).
    expect(table(again, 'ST')?.unchangedSince).toBe(first.runId);

    // A table emptied behind the pipeline's back has fewer rows than its last load left: read in full.
    await write(`DELETE FROM cases_st`);
    const refill = await run({ force: true });
    expect(table(refill, 'ST')).toMatchObject({ unchangedSince: null, inserted: table(first, 'ST')?.rows });
  });

  it('reads a file again when it would be read another way', async () => {
    await run();
    const stricter = await run({ force: true }, { ETL_MAX_LINE_BYTES: '60000' });
    expect(tables(stricter).every((t) => t.unchangedSince === null)).toBe(true);
    expect(tables(stricter).every((t) => t.known === t.rows)).toBe(true);
    const again = await run({ force: true }, { ETL_MAX_LINE_BYTES: '60000' });
    expect(tables(again).every((t) => t.unchangedSince === stricter.runId)).toBe(true);
  });

  it('brings back rows deactivated by hand with --reread, which a forced run does not see', async () => {
    const first = await run();
    await write(
      `UPDATE cases_su SET _active = ${dialect === 'postgres' ? 'false' : '0'} WHERE sukey IN (SELECT sukey FROM cases_su ORDER BY sukey LIMIT 2)`,
    );
    const forced = await run({ force: true });
    expect(table(forced, 'SU')?.unchangedSince).toBe(first.runId);
    expect(await count(`SELECT count(*) AS n FROM cases_su WHERE NOT _active`)).toBe(2);
    const reread = await run({ reread: true });
    expect(table(reread, 'SU')).toMatchObject({ unchangedSince: null, reactivated: 2 });
    expect(await count(`SELECT count(*) AS n FROM cases_su WHERE NOT _active`)).toBe(0);
  });
});
