import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { EtlError } from '../src/errors/index.js';
import { loadLayouts } from '../src/layouts/index.js';
import { mirrorFor, type MirrorTable } from '../src/schema/index.js';
import { rollbackRun, runEtl } from '../src/pipeline/index.js';
import { createStore, type Store } from '../src/store/index.js';
import { runCli } from './helpers/cli.js';
import { copySample, editCsv } from './helpers/nights.js';
import { createTarget, DIALECTS, type Probe, type Target } from './helpers/targets.js';

/**
 * `cases-etl migrate --rekey TABLE`: a school switches DF to a layout keyed on another column. The
 * mirror is rebuilt under the new key in one transaction, every row and its bookkeeping kept; the
 * runs whose change history named rows by the old key can no longer be rolled back; and the next
 * run loads under the new key. Empty or repeated keys refuse, changing nothing.
 */
describe.each(DIALECTS)('rekeying a mirror table on %s', (dialect) => {
  let target: Target;
  let probe: Probe | undefined;
  let store: Store | undefined;
  let src: string;

  beforeEach(async () => {
    target = await createTarget(dialect);
    src = join(target.dir, 'export');
    await copySample(src);
    probe = undefined;
    store = undefined;
  });
  afterEach(async () => {
    await probe?.close();
    await store?.close();
    await target.cleanup();
  });

  const query = async (sql: string, params: unknown[] = []): Promise<Array<Record<string, unknown>>> =>
    (probe ??= await target.probe()).all(sql, params);
  const count = async (sql: string, params: unknown[] = []): Promise<number> =>
    Number((await query(sql, params))[0]?.n);

  /** The mirror's primary key columns in key order, from the catalog. */
  async function primaryKey(table: string): Promise<string[]> {
    const sql =
      dialect === 'sqlite'
        ? `SELECT name FROM pragma_table_info('${table}') WHERE pk > 0 ORDER BY pk`
        : `SELECT a.attname AS name FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
            WHERE i.indrelid = '${table}'::regclass AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)`;
    return (await query(sql)).map((r) => String(r.name));
  }

  /** Writes relationships.json giving DF (DF_8865.csv) a layout keyed on `key`; returns its path. */
  async function dfLayoutKeyedOn(key: string): Promise<string> {
    const path = join(target.dir, `relationships-${key}.json`);
    const layout = {
      table_name: 'DF_8865',
      format: 'csv',
      columns: [{ name: 'DFKEY' }, { name: key }],
      primary_key: key,
    };
    await writeFile(
      path,
      JSON.stringify({ primary_keys: {}, relationships: [], file_layouts: { 'DF_8865.csv': layout } }),
    );
    return path;
  }

  async function dfMirror(relationships: string): Promise<MirrorTable> {
    const layout = (await loadLayouts(relationships)).layoutFor('DF');
    if (!layout) throw new Error('no DF layout');
    return mirrorFor(layout, []);
  }

  /** Whether `column` of the mirror is declared NOT NULL (1) or not (0). */
  async function notNull(table: string, column: string): Promise<number> {
    const sql =
      dialect === 'sqlite'
        ? `SELECT "notnull" AS n FROM pragma_table_info('${table}') WHERE name = ?`
        : `SELECT CASE WHEN is_nullable = 'NO' THEN 1 ELSE 0 END AS n FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = '${table}' AND column_name = ?`;
    return count(sql, [column]);
  }

  /** Sets LW_USER (the CASES user who last wrote the row) of the file's first row to REKEYTEST: a change, nothing more. */
  const editFirstRow = (file: string): Promise<void> =>
    editCsv(join(src, file), (rows, col) =>
      rows.map((r, i) => (i === 0 ? r.map((v, j) => (j === col('LW_USER') ? 'REKEYTEST' : v)) : r)),
    );
  const changesOf = (runId: number | null, table: string): Promise<number> =>
    count(`SELECT count(*) AS n FROM etl_changes WHERE run_id = ? AND table_name = ?`, [runId, table]);

  const openStore = async (): Promise<Store> =>
    (store ??= await createStore(target.config().database, { lockTimeoutMs: 20_000 }));
  const everyDfRow = (): Promise<Array<Record<string, unknown>>> =>
    query(`SELECT * FROM cases_df ORDER BY school_id, dfkey`);
  const families = (): Promise<Array<Record<string, unknown>>> => query(`SELECT * FROM families ORDER BY 2`);

  it('rebuilds DF under a new key, keeping rows, bookkeeping and views; prunes the runs that changed DF; loads after', async () => {
    const night1 = await runEtl({ config: target.config({ CASES_DIRECTORY: src }) });
    expect(night1.status).toBe('succeeded');
    // Night 2 changes ST only: its history names no DF row, so it stays undoable.
    await editFirstRow('ST_8865.csv');
    const night2 = await runEtl({ config: target.config({ CASES_DIRECTORY: src }) });
    expect(night2.status).toBe('succeeded');
    expect(await changesOf(night2.runId, 'DF')).toBe(0);
    expect(await changesOf(night1.runId, 'DF')).toBeGreaterThan(0);
    const rows = await everyDfRow();
    expect(rows).toHaveLength(162);
    const view = await families();
    expect(view).toHaveLength(162);
    expect(await primaryKey('cases_df')).toEqual(['school_id', 'dfkey']);

    const relationships = await dfLayoutKeyedOn('BPAY_REFERENCE');
    const result = await (await openStore()).rekeyMirror(await dfMirror(relationships));
    expect(result).toEqual({
      table: 'DF',
      mirror: 'cases_df',
      oldKey: ['dfkey'],
      newKey: ['bpay_reference'],
      changed: true,
      rows: 162,
      prunedRuns: [night1.runId],
    });
    expect(await primaryKey('cases_df')).toEqual(['school_id', 'bpay_reference']);
    // As a table created under the new key: the old key column may now be empty, school_id may not.
    expect([await notNull('cases_df', 'dfkey'), await notNull('cases_df', 'school_id')]).toEqual([0, 1]);
    expect(await everyDfRow()).toEqual(rows);
    expect(await families()).toEqual(view);
    expect(await query(`SELECT id, changes_pruned FROM etl_runs ORDER BY id`)).toEqual([
      { id: night1.runId, changes_pruned: 1 },
      { id: night2.runId, changes_pruned: 0 },
    ]);
    expect(await count(`SELECT count(*) AS n FROM etl_changes WHERE run_id = ?`, [night1.runId])).toBe(0);
    expect(await count(`SELECT count(*) AS n FROM etl_changes WHERE run_id = ?`, [night2.runId])).toBeGreaterThan(0);
    const config = target.config({ CASES_DIRECTORY: src, CASES_RELATIONSHIPS_JSON: relationships });
    const refused = await rollbackRun(night1.runId as number, { config, cascade: true, notifier: null }).catch(
      (e: unknown) => e,
    );
    expect((refused as EtlError).code).toBe('ETL_ROLLBACK_PRUNED');
    expect((refused as EtlError).message).toContain(`the change history of run ${night1.runId} was pruned`);

    // The next night loads under the new key: a changed family is an update of its row.
    await editFirstRow('DF_8865.csv');
    const night3 = await runEtl({ config });
    expect(night3.status).toBe('succeeded');
    expect(await count(`SELECT count(*) AS n FROM cases_df WHERE lw_user = 'REKEYTEST'`)).toBe(1);
    expect(await count(`SELECT count(*) AS n FROM cases_df`)).toBe(162);

    // Asking again changes nothing, not even the history of the run just made.
    const again = await (await openStore()).rekeyMirror(await dfMirror(relationships));
    expect(again).toMatchObject({
      changed: false,
      prunedRuns: [],
      oldKey: ['bpay_reference'],
      newKey: ['bpay_reference'],
      rows: 162,
    });
    expect(await query(`SELECT changes_pruned FROM etl_runs WHERE id = ?`, [night3.runId])).toEqual([
      { changes_pruned: 0 },
    ]);
    expect(await changesOf(night3.runId, 'DF')).toBeGreaterThan(0);
    // Its history, written under the new key, undoes it exactly.
    await rollbackRun(night3.runId as number, { config, notifier: null });
    expect(await everyDfRow()).toEqual(rows);
  });

  it('refuses empty and repeated keys with counts, a missing column and a missing table, changing nothing', async () => {
    const night1 = await runEtl({ config: target.config({ CASES_DIRECTORY: src }) });
    expect(night1.status).toBe('succeeded');
    const rows = await everyDfRow();
    const changes = await count(`SELECT count(*) AS n FROM etl_changes`);
    const s = await openStore();
    const refusal = async (mirror: MirrorTable): Promise<EtlError> => {
      const err = await s.rekeyMirror(mirror).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(EtlError);
      return err as EtlError;
    };

    // MOBILE_B is empty for one-parent families and unique otherwise.
    const empty = await count(`SELECT count(*) AS n FROM cases_df WHERE mobile_b IS NULL`);
    expect(empty).toBeGreaterThan(0);
    const nulls = await refusal(await dfMirror(await dfLayoutKeyedOn('MOBILE_B')));
    expect(nulls.code).toBe('ETL_LAYOUT_REKEY_REFUSED');
    expect(nulls.message).toBe(
      `cannot rekey table DF (cases_df) to MOBILE_B: ${empty} of 162 rows have no value in MOBILE_B; nothing was changed`,
    );

    // TITLE_A is never empty and takes a handful of values.
    const titles = await query(`SELECT count(*) AS n FROM cases_df GROUP BY school_id, title_a HAVING count(*) > 1`);
    const shared = titles.reduce((sum, r) => sum + Number(r.n), 0);
    expect(titles.length).toBeGreaterThan(1);
    const dups = await refusal(await dfMirror(await dfLayoutKeyedOn('TITLE_A')));
    expect(dups.code).toBe('ETL_LAYOUT_REKEY_REFUSED');
    expect(dups.message).toBe(
      `cannot rekey table DF (cases_df) to TITLE_A: ${shared} rows share ${titles.length} values of TITLE_A ` +
        'with another row of the same school; nothing was changed',
    );

    const df = await dfMirror(await dfLayoutKeyedOn('BPAY_REFERENCE'));
    const missing = await refusal({ ...df, key: ['bpay_reference', 'no_such_column'] });
    expect(missing.code).toBe('ETL_LAYOUT_REKEY_REFUSED');
    expect(missing.message).toBe(
      'cannot rekey table DF (cases_df): the table has no column NO_SUCH_COLUMN ' +
        "of the layout's key BPAY_REFERENCE, NO_SUCH_COLUMN (load a file with it first)",
    );
    const absent = await refusal({ ...df, table: 'ZZ', name: 'cases_zz' });
    expect(absent.message).toMatch(/^cannot rekey table ZZ \(cases_zz\): there is no such mirror table/);
    const keyless = await refusal({ ...df, key: [] });
    expect(keyless.message).toBe('cannot rekey table DF (cases_df): its layout has no primary key');

    expect(await primaryKey('cases_df')).toEqual(['school_id', 'dfkey']);
    expect(await everyDfRow()).toEqual(rows);
    expect(await count(`SELECT count(*) AS n FROM etl_changes`)).toBe(changes);
    expect(
      await count(`SELECT count(*) AS n FROM etl_runs WHERE changes_pruned = ?`, [dialect === 'sqlite' ? 1 : true]),
    ).toBe(0);
  });

  it('runs from the built CLI: exit 0 with what it did, 1 when refused, 2 for bad usage', async () => {
    const night1 = await runEtl({ config: target.config({ CASES_DIRECTORY: src }) });
    expect(night1.status).toBe('succeeded');
    const rows = await everyDfRow();

    const titleA = { ...target.env, CASES_RELATIONSHIPS_JSON: await dfLayoutKeyedOn('TITLE_A') };
    const refused = await runCli(['migrate', '--rekey', 'df'], titleA);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^error ETL_LAYOUT_REKEY_REFUSED: cannot rekey table DF \(cases_df\) to TITLE_A: \d+ rows share \d+ values/m,
    );
    expect(await primaryKey('cases_df')).toEqual(['school_id', 'dfkey']);

    const env = { ...target.env, CASES_RELATIONSHIPS_JSON: await dfLayoutKeyedOn('BPAY_REFERENCE') };
    const done = await runCli(['migrate', '--rekey', 'DF_8865'], env);
    expect(done.stderr).toBe('');
    expect(done.code).toBe(0);
    expect(done.stdout).toBe(
      'Rekeyed DF (cases_df): DFKEY → BPAY_REFERENCE; 162 rows kept.\n' +
        `Change history pruned for run ${night1.runId}: its images named rows by the old key, so it can no longer be rolled back.\n`,
    );
    expect(await primaryKey('cases_df')).toEqual(['school_id', 'bpay_reference']);
    expect(await everyDfRow()).toEqual(rows);

    const again = await runCli(['migrate', '--rekey', 'DF', '--json'], env);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({
      table: 'DF',
      mirror: 'cases_df',
      oldKey: ['bpay_reference'],
      newKey: ['bpay_reference'],
      changed: false,
      rows: 162,
      prunedRuns: [],
      ledgerMigrations: [],
    });
    expect((await runCli(['migrate', '--rekey', 'NOPE'], env)).code).toBe(2);
    expect((await runCli(['migrate', '--json'], env)).code).toBe(2);
  });
});
