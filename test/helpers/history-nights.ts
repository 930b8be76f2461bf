import { join } from 'node:path';

import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';

import type { Config } from '../../src/config/index.js';
import { readRowHistory, runEtl, type EtlResult, type RowHistory } from '../../src/pipeline/index.js';
import { createStore } from '../../src/store/index.js';
import { editCsv } from './nights.js';
import type { ExportFolder } from './targets.js';

/**
 * Three nights of the shipped sample for the row history tests (issue 19). Night 2 moves one
 * student to another home group (and gives them 12.50 of money), holds one whose birth date is
 * impossible, drops one and changes an address (and its latitude); night 3 moves the first again,
 * brings the dropped one back in another home group and changes the address again.
 */

/** The students and the address the nights change (the sample's first rows). */
export const MOVED = 'WAL0001';
export const LEAVER = 'WIL0001';
export const HELD = 'WIL0002';
export const ADDRESS = '1';

export interface HistoryNights {
  config(extra?: Record<string, string>): Config;
  /** Runs a night (it must publish) with extra configuration, forced when asked; its run id. */
  run(extra?: Record<string, string>, options?: { readonly force?: boolean }): Promise<number>;
  night2(extra?: Record<string, string>): Promise<number>;
  night3(extra?: Record<string, string>): Promise<number>;
  /** Nights 1 to 3, each with `extra`; their run ids. */
  threeNights(extra?: Record<string, string>): Promise<[number, number, number]>;
  /** readRowHistory of school 8865's row on the folder's database. */
  history(table: string, key: string, options?: { values?: boolean }): Promise<RowHistory>;
  /** Runs one statement that writes (`?` placeholders), outside the store. */
  exec(sql: string, params?: unknown[]): Promise<void>;
}

export function historyNights(folder: ExportFolder): HistoryNights {
  const st = (): string => join(folder.src, 'ST_8865.csv');
  const um = (): string => join(folder.src, 'UM_8865.csv');
  const config = (extra: Record<string, string> = {}): Config =>
    folder.target.config({ CASES_DIRECTORY: folder.src, ...extra });
  const run = async (
    extra: Record<string, string> = {},
    options: { readonly force?: boolean } = {},
  ): Promise<number> => {
    const result: EtlResult = await runEtl({ config: config(extra), notifier: null, force: options.force === true });
    if (!result.success || result.runId === null) throw new Error(`the night failed: ${result.errors.join('; ')}`);
    return result.runId;
  };
  /** LEAVER's row as the sample has it, kept by night 2 for night 3. */
  let left: string[] | undefined;

  async function night2(extra: Record<string, string> = {}): Promise<number> {
    await editCsv(st(), (rows, col) =>
      rows
        .filter((r) => (r[col('STKEY')] === LEAVER ? ((left = r), false) : true))
        .map((r) => {
          if (r[col('STKEY')] === MOVED)
            return Object.assign([...r], { [col('HOME_GROUP')]: '10C', [col('EMA_AMT1P')]: '12.50' });
          if (r[col('STKEY')] === HELD) return Object.assign([...r], { [col('BIRTHDATE')]: '31/02/2011 12:00:00 AM' });
          return r;
        }),
    );
    await editCsv(um(), (rows, col) =>
      rows.map((r) =>
        r[col('UMKEY')] === ADDRESS
          ? Object.assign([...r], { [col('ADDRESS01')]: '50 Stephensons Road', [col('LATITUDE')]: '-37.894400' })
          : r,
      ),
    );
    return run(extra);
  }

  async function night3(extra: Record<string, string> = {}): Promise<number> {
    if (!left) throw new Error('night 3 follows night 2');
    const back = left;
    await editCsv(st(), (rows, col) => [
      ...rows.map((r) => (r[col('STKEY')] === MOVED ? Object.assign([...r], { [col('HOME_GROUP')]: '10D' }) : r)),
      Object.assign([...back], { [col('HOME_GROUP')]: '8A' }),
    ]);
    await editCsv(um(), (rows, col) =>
      rows.map((r) =>
        r[col('UMKEY')] === ADDRESS ? Object.assign([...r], { [col('ADDRESS01')]: '51 Stephensons Road' }) : r,
      ),
    );
    return run(extra);
  }

  return {
    config,
    run,
    night2,
    night3,
    async threeNights(extra = {}) {
      return [await run(extra), await night2(extra), await night3(extra)];
    },
    async history(table, key, options = {}) {
      const store = await createStore(config().database, { lockTimeoutMs: 5000 });
      try {
        return await readRowHistory(store, { table, key, school: '8865', values: options.values ?? false });
      } finally {
        await store.close();
      }
    },
    async exec(sql, params = []) {
      const database = config().database;
      if (database.kind === 'sqlite') {
        const db = new BetterSqlite3(database.path);
        try {
          db.prepare(sql).run(...(params as never[]));
        } finally {
          db.close();
        }
        return;
      }
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        await client.query(`SET search_path TO "${database.schema}"`);
        let n = 0;
        await client.query(
          sql.replace(/\?/g, () => `$${++n}`),
          params,
        );
      } finally {
        await client.end();
      }
    },
  };
}
