import { join } from 'node:path';

import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { rollbackRun, runEtl } from '../src/pipeline/index.js';
import { copySample, editCsv, readCsv } from './helpers/nights.js';
import { createTarget, DIALECTS, type Target } from './helpers/targets.js';

/** Runs one statement outside the store, as someone editing the database by hand would. */
async function execBehind(target: Target, sql: string): Promise<void> {
  const url = target.env.DATABASE_URL as string;
  if (target.dialect === 'sqlite') {
    const db = new BetterSqlite3(url.replace(/^sqlite:/, ''));
    db.exec(sql);
    db.close();
    return;
  }
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`SET search_path TO "${target.env.DATABASE_SCHEMA}"`);
  await client.query(sql);
  await client.end();
}

describe.each(DIALECTS)('rollback on %s', (dialect) => {
  let target: Target;
  let src: string;
  beforeEach(async () => {
    target = await createTarget(dialect);
    src = join(target.dir, 'export');
    await copySample(src);
  });
  afterEach(() => target.cleanup());

  it('puts the mirror back to the night before and counts the rows it really changed', async () => {
    const config = target.config({ CASES_DIRECTORY: src });
    const night1 = await runEtl({ config });
    const probe = await target.probe();
    try {
      const state = (): Promise<unknown[]> =>
        probe.all(
          `SELECT school_id, stkey, surname, _hash, _active, _changed_run, _deactivated_run FROM cases_st ORDER BY stkey`,
        );
      const before = await state();
      const st = join(src, 'ST_8865.csv');
      const { header, rows } = await readCsv(st);
      const key = header.indexOf('STKEY');
      const [gone1, gone2, changed1, changed2, changed3] = rows.slice(0, 5).map((r) => r[key] as string);
      await editCsv(st, (all, col) => {
        const kept = all.filter((r) => r[key] !== gone1 && r[key] !== gone2);
        for (const r of kept)
          if ([changed1, changed2, changed3].includes(r[key] as string)) r[col('SURNAME')] = 'CHANGED';
        const added = [...(kept[10] as string[])];
        added[key] = 'NEW0001';
        added[col('REGISTRATION')] = '900001';
        return [...kept, added];
      });
      const night2 = await runEtl({ config });
      expect(night2.stats).toMatchObject({ inserted: 1, updated: 3, deactivated: 2 });

      // Someone deletes a row night 2 changed: the log still names it, the mirror no longer has it.
      await execBehind(target, `DELETE FROM cases_st WHERE stkey = '${changed3}'`);
      const result = await rollbackRun(night2.runId as number, { config, notifier: null });
      expect(result.runs[0]?.tables.find((t) => t.table === 'ST')).toEqual({ table: 'ST', deleted: 1, restored: 4 });
      expect(result.rowsDeleted).toBe(1);

      const after = await state();
      expect(after).toEqual(before.filter((r) => (r as { stkey: string }).stkey !== changed3));
      expect(night1.status).toBe('succeeded');
    } finally {
      await probe.close();
    }
  });
});
