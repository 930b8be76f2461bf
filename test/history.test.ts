import { describe, expect, it } from 'vitest';

import { ledgerKey, resolveHistoryTable, rollbackRun } from '../src/pipeline/index.js';
import { ADDRESS, HELD, historyNights, LEAVER, MOVED } from './helpers/history-nights.js';
import { DIALECTS, useExportFolder } from './helpers/targets.js';

/**
 * Row history (issue 19): what `cases-etl history` reads, the cases_history view, and the compact
 * history a run's changes move to once it leaves the rollback window (ETL_SNAPSHOT_RETENTION),
 * kept for ETL_HISTORY_DAYS. Three nights of the shipped sample (helpers/history-nights.ts).
 */
describe.each(DIALECTS)(
  'row history on %s',
  (dialect) => {
    const folder = useExportFolder(dialect);
    const nights = historyNights(folder);
    const { history } = nights;

    /** What every row's history holds after the three nights, as [run, op, columns]. */
    type Entries = Array<[number, string, readonly string[]]>;
    async function summary(): Promise<{ moved: Entries; leaver: Entries; held: Entries; address: Entries }> {
      const of = async (table: string, key: string) =>
        (await history(table, key)).entries.map((e) => [e.run, e.op, e.columns] as [number, string, readonly string[]]);
      return {
        moved: await of('ST', MOVED),
        leaver: await of('ST', LEAVER),
        held: await of('ST', HELD),
        address: await of('UM', ADDRESS),
      };
    }

    it('shows inserted, updated (columns only), held, deactivated and reactivated after three nights', async () => {
      const [n1, n2, n3] = await nights.threeNights();

      const moved = await history('st', MOVED);
      expect(moved).toMatchObject({ table: 'ST', key: MOVED, school: '8865', values: false });
      // Night 3 changed only the home group: the money column's 12.50, stored as the number 12.5
      // on SQLite and as numeric on PostgreSQL, reads as the file's text and is no change; nor is
      // the birth date, a datetime each image writes its own way.
      expect(moved.entries.map((e) => [e.run, e.op, e.columns])).toEqual([
        [n1, 'inserted', []],
        [n2, 'updated', ['ema_amt1p', 'home_group']],
        [n3, 'updated', ['home_group']],
      ]);
      // Values are personal data: without asking, none is in the answer.
      expect(JSON.stringify(moved)).not.toMatch(/10C|10D|12\.50/);

      const withValues = await history('ST', MOVED, { values: true });
      expect(withValues.entries[1]?.changes).toEqual({
        ema_amt1p: { from: null, to: '12.50' },
        home_group: { from: '9B', to: '10C' },
      });
      expect(withValues.entries[2]?.changes).toEqual({ home_group: { from: '10C', to: '10D' } });

      const leaver = await history('ST', LEAVER, { values: true });
      expect(leaver.entries.map((e) => [e.run, e.op])).toEqual([
        [n1, 'inserted'],
        [n2, 'deactivated'],
        [n3, 'reactivated'],
      ]);
      // The row came back with another value than it left with: the reactivation says which.
      expect(leaver.entries[2]?.columns).toEqual(['home_group']);
      expect(leaver.entries[2]?.changes).toEqual({ home_group: { from: null, to: '8A' } });

      const held = await history('ST', HELD);
      expect(held.entries.map((e) => [e.run, e.op, e.columns])).toEqual([
        [n1, 'inserted', []],
        [n2, 'held', []],
        [n3, 'held', []],
      ]);
      expect(held.entries[1]?.rejected).toEqual([{ field: 'BIRTHDATE', code: 'ETL_TYPE_DATE_INVALID' }]);

      // A float is a number on both databases; the table may be named by its table id.
      const address = await history('UM_8865', ADDRESS, { values: true });
      expect(address.entries.map((e) => [e.run, e.op, e.columns])).toEqual([
        [n1, 'inserted', []],
        [n2, 'updated', ['address01', 'latitude']],
        [n3, 'updated', ['address01']],
      ]);
      expect(address.entries[1]?.changes?.latitude).toEqual({ from: '-37.894478', to: '-37.8944' });
    });

    it('answers "whose home group changed" from the cases_history view', async () => {
      const [n1, n2, n3] = await nights.threeNights();
      const rows = await folder.query(
        `SELECT school_id, table_name, row_key, run_id, op, changed_columns FROM cases_history
        WHERE table_name = 'ST' AND row_key = ?`,
        [MOVED],
      );
      // A text array on PostgreSQL, a JSON array of text on SQLite.
      const columns = (v: unknown): string[] =>
        Array.isArray(v) ? (v as string[]) : (JSON.parse(String(v)) as string[]);
      expect(
        rows.map((r) => [r.school_id, r.table_name, r.row_key, r.run_id, r.op, columns(r.changed_columns)]),
      ).toEqual([
        ['8865', 'ST', MOVED, n1, 'inserted', []],
        ['8865', 'ST', MOVED, n2, 'updated', ['ema_amt1p', 'home_group']],
        ['8865', 'ST', MOVED, n3, 'updated', ['home_group']],
      ]);
      // The README's question, as each database asks it: who changed home group this week.
      const thisWeek =
        dialect === 'postgres'
          ? `SELECT row_key, run_id FROM cases_history
            WHERE table_name = 'ST' AND 'home_group' = ANY(changed_columns) AND run_time > now() - interval '7 days'`
          : `SELECT row_key, run_id FROM cases_history
            WHERE table_name = 'ST' AND changed_columns LIKE '%"home_group"%' AND run_time > strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-7 days')`;
      expect(await folder.query(thisWeek)).toEqual([
        { row_key: MOVED, run_id: n2 },
        { row_key: MOVED, run_id: n3 },
        { row_key: LEAVER, run_id: n3 },
      ]);
      // The view is oldest first, and carries no values.
      const all = await folder.query('SELECT run_id FROM cases_history');
      expect(all.map((r) => r.run_id)).toEqual([...all.map((r) => r.run_id)].sort((a, b) => Number(a) - Number(b)));
      expect(JSON.stringify(await folder.query(`SELECT * FROM cases_history WHERE row_key = ?`, [MOVED]))).not.toMatch(
        /10C|9B/,
      );
    });

    it('keeps what left the rollback window in compact form, the same history', async () => {
      const [n1, n2, n3] = await nights.threeNights({ ETL_SNAPSHOT_RETENTION: '1' });
      // Only the last night's changes are kept in full; nights 1 and 2 are compact now.
      expect((await folder.query('SELECT DISTINCT run_id FROM etl_changes')).map((r) => r.run_id)).toEqual([n3]);
      expect(
        (await folder.query('SELECT DISTINCT run_id FROM etl_history ORDER BY run_id')).map((r) => r.run_id),
      ).toEqual([n1, n2]);
      // Compact: an insert or a deactivation is its op alone; an update its changed columns.
      expect(
        await folder.query(`SELECT op, changes FROM etl_history WHERE table_name = 'ST' AND row_key = ? ORDER BY seq`, [
          LEAVER,
        ]),
      ).toEqual([
        { op: 'inserted', changes: null },
        { op: 'deactivated', changes: null },
      ]);
      const compact = await summary();
      expect(compact.moved).toEqual([
        [n1, 'inserted', []],
        [n2, 'updated', ['ema_amt1p', 'home_group']],
        [n3, 'updated', ['home_group']],
      ]);
      expect(compact.leaver.map(([run, op]) => [run, op])).toEqual([
        [n1, 'inserted'],
        [n2, 'deactivated'],
        [n3, 'reactivated'],
      ]);
      expect(compact.held.map(([run, op]) => [run, op])).toEqual([
        [n1, 'inserted'],
        [n2, 'held'],
        [n3, 'held'],
      ]);
      expect((await history('ST', MOVED, { values: true })).entries[1]?.changes).toEqual({
        ema_amt1p: { from: null, to: '12.50' },
        home_group: { from: '9B', to: '10C' },
      });
    });

    it('prunes compact history older than ETL_HISTORY_DAYS, and keeps none beyond the window at 0', async () => {
      const [n1, n2, n3] = await nights.threeNights({ ETL_SNAPSHOT_RETENTION: '1' });
      // Night 1 published 40 days ago, as far as the ledger knows.
      const longAgo = new Date(Date.now() - 40 * 86_400_000).toISOString();
      await nights.exec('UPDATE etl_runs SET finished_at = ? WHERE id = ?', [longAgo, n1]);
      // The same files again, forced: a night that changes nothing still prunes.
      await nights.run({ ETL_SNAPSHOT_RETENTION: '1', ETL_HISTORY_DAYS: '30' }, { force: true });
      const runs = (await folder.query('SELECT DISTINCT run_id FROM etl_history ORDER BY run_id')).map((r) => r.run_id);
      expect(runs).not.toContain(n1);
      expect(runs).toContain(n2);
      expect((await history('ST', MOVED)).entries.map((e) => e.run)).toEqual([n2, n3]);

      // 0 days: nothing is kept once a run leaves the window.
      await nights.run({ ETL_SNAPSHOT_RETENTION: '1', ETL_HISTORY_DAYS: '0' }, { force: true });
      expect(await folder.query('SELECT count(*) AS n FROM etl_history')).toEqual([{ n: 0 }]);
    });

    it('drops the rejects of runs past ETL_HISTORY_DAYS with their history; the runs keep their counts', async () => {
      const [n1, n2, n3] = await nights.threeNights({ ETL_SNAPSHOT_RETENTION: '1' });
      const rejectRuns = async () =>
        (await folder.query('SELECT DISTINCT run_id FROM etl_rejects ORDER BY run_id')).map((r) => r.run_id);
      expect(await rejectRuns()).toEqual([n2, n3]);
      const longAgo = new Date(Date.now() - 40 * 86_400_000).toISOString();
      await nights.exec('UPDATE etl_runs SET finished_at = ? WHERE id IN (?, ?)', [longAgo, n1, n2]);
      const n4 = await nights.run({ ETL_SNAPSHOT_RETENTION: '1', ETL_HISTORY_DAYS: '30' }, { force: true });
      // Night 2's rejects (the held row's birth date, and the line kept for an admin) are gone.
      expect(await rejectRuns()).not.toContain(n2);
      expect(await rejectRuns()).toContain(n3);
      expect((await history('ST', HELD)).entries.map((e) => [e.run, e.op])).toEqual([
        [n3, 'held'],
        [n4, 'held'],
      ]);
      const [counted] = await folder.query('SELECT rejected FROM etl_runs WHERE id = ?', [n2]);
      expect(Number(counted?.rejected)).toBeGreaterThan(0);
    });

    it('shows no change of a rolled-back run', async () => {
      const [n1, n2, n3] = await nights.threeNights();
      const before = await summary();
      const n4 = await nights.night2();
      expect((await history('ST', MOVED)).entries.map((e) => e.run)).toEqual([n1, n2, n3, n4]);
      await rollbackRun(n4, { config: nights.config(), notifier: null });
      // What the run did was undone: it is in no row's history, nor in the view.
      expect(await summary()).toEqual(before);
      expect(await folder.query('SELECT count(*) AS n FROM cases_history WHERE run_id = ?', [n4])).toEqual([{ n: 0 }]);
    });
  },
  120_000,
);

describe('how a history lookup reads its key and table', () => {
  it('takes a composite key with its parts joined by |, spaces around them dropped', () => {
    expect(ledgerKey('ABC0001')).toBe('ABC0001');
    expect(ledgerKey(' 7A | 2024-02-01 ')).toBe('7A\u001f2024-02-01');
    expect(ledgerKey('7A|2024-02-01')).toBe('7A\u001f2024-02-01');
    for (const bad of ['', ' ', 'A||B', 'A|'])
      expect(() => ledgerKey(bad), bad).toThrow(expect.objectContaining({ code: 'ETL_USAGE' }));
  });

  it('finds a table by its CASES id in any case, or by its table id', () => {
    const known = ['DF', 'ST', 'SXAB', 'ST_EXTRA'];
    expect(resolveHistoryTable('sxab', known, null)).toBe('SXAB');
    expect(resolveHistoryTable('ST_8865', known, '8865')).toBe('ST');
    expect(resolveHistoryTable('st_extra', known, null)).toBe('ST_EXTRA');
    expect(() => resolveHistoryTable('KGT', known, '8865')).toThrow(
      expect.objectContaining({
        code: 'ETL_HISTORY_UNKNOWN_TABLE',
        message: expect.stringContaining(
          'No run of school 8865 has read a file for a table "KGT"; the tables runs have read are DF, ST, SXAB, ST_EXTRA',
        ),
      }),
    );
  });
});
