import { existsSync } from 'node:fs';

import { describe, expect, it } from 'vitest';

import { runCli } from './helpers/cli.js';
import { HELD, historyNights, LEAVER, MOVED } from './helpers/history-nights.js';
import { DIALECTS, useExportFolder } from './helpers/targets.js';

/**
 * `cases-etl history <table> <key>` (issue 19) on the built CLI: after three nights of the sample
 * (helpers/history-nights.ts) it names the changed columns, prints values only with
 * --show-values, prints the same content as JSON with --json, and tells an unknown table (exit 2)
 * from a row without history (exit 1) by their codes.
 */
describe.each(DIALECTS)(
  'cases-etl history on %s',
  (dialect) => {
    const folder = useExportFolder(dialect);
    const nights = historyNights(folder);
    const history = (...args: string[]) => runCli(['history', ...args], folder.target.env);

    it('says there is no history before anything has run, changing nothing', async () => {
      const none = await history('ST', MOVED);
      expect(none.code).toBe(1);
      expect(none.stderr).toContain('error ETL_HISTORY_NOT_FOUND: no ledger in');
      expect(none.stdout).toBe('');
      const database = nights.config().database;
      if (database.kind === 'sqlite') expect(existsSync(database.path)).toBe(false);
      else expect(await folder.query(`SELECT to_regclass('etl_runs') AS t`)).toEqual([{ t: null }]);
    });

    it('lists a row’s published changes oldest first, columns only unless --show-values', async () => {
      const [n1, n2, n3] = await nights.threeNights();

      const plain = await history('st', MOVED, '--school', '8865');
      expect(plain.code, plain.stderr).toBe(0);
      const lines = plain.stdout.trimEnd().split('\n');
      expect(lines[0]).toBe(
        `ST ${MOVED} of school 8865: 3 published changes, oldest first; values are not shown (--show-values shows them)`,
      );
      expect(lines[1]).toMatch(/^\s+RUN\s+PUBLISHED\s+OP\s+COLUMNS$/);
      expect(lines.slice(2).map((l) => l.trim().split(/\s{2,}/))).toEqual([
        [String(n1), expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/), 'inserted'],
        [String(n2), expect.any(String), 'updated', 'ema_amt1p, home_group'],
        [String(n3), expect.any(String), 'updated', 'home_group'],
      ]);
      expect(plain.stdout).not.toMatch(/10C|10D|9B|12\.50/);

      const values = await history('ST', MOVED, '--school', '8865', '--show-values');
      expect(values.code).toBe(0);
      expect(values.stdout).toContain('(values are personal data)');
      expect(values.stdout).toContain('ema_amt1p: (empty) → "12.50"; home_group: "9B" → "10C"');
      expect(values.stdout).toContain('home_group: "10C" → "10D"');

      // Without --school: every school's row of that key, each line naming its school.
      const everywhere = await history('ST', LEAVER);
      expect(everywhere.code).toBe(0);
      expect(everywhere.stdout.split('\n')[1]).toMatch(/^\s+SCHOOL\s+RUN/);
      expect(everywhere.stdout).toMatch(/8865\s+\d+\s+\S+ \S+\s+deactivated/);
      expect(everywhere.stdout).toMatch(/reactivated\s+home_group/);

      const held = await history('ST', HELD, '--school', '8865');
      expect(held.stdout).toContain('held      kept as it was; rejected: BIRTHDATE (ETL_TYPE_DATE_INVALID)');
    });

    it('prints the same content as JSON, values only when asked', async () => {
      await nights.threeNights();
      const json = await history('ST', MOVED, '--school', '8865', '--json');
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout)).toEqual(await nights.history('ST', MOVED));
      expect(json.stdout).not.toContain('10C');
      const withValues = await history('ST', MOVED, '--school', '8865', '--json', '--show-values');
      expect(JSON.parse(withValues.stdout)).toEqual(await nights.history('ST', MOVED, { values: true }));
      expect(JSON.parse(withValues.stdout).entries[2].changes).toEqual({ home_group: { from: '10C', to: '10D' } });
    });

    it('tells an unknown table (exit 2) from a row without history (exit 1)', async () => {
      await nights.run();
      const table = await history('XYZ', MOVED);
      expect(table.code).toBe(2);
      expect(table.stderr).toContain('error ETL_HISTORY_UNKNOWN_TABLE');
      expect(table.stderr).toContain('the tables runs have read are DF, KCT');
      const row = await history('ST', 'NOBODY1', '--school', '8865');
      expect(row.code).toBe(1);
      expect(row.stderr).toContain('error ETL_HISTORY_NOT_FOUND: ST "NOBODY1" of school 8865 has no published change');
      // Another school's row of that key is not this school's.
      expect((await history('ST', MOVED, '--school', '9999')).code).toBe(2);
      const empty = await history('ST', 'A| ');
      expect(empty.code).toBe(2);
      expect(empty.stderr).toContain('error ETL_USAGE');
    });
  },
  120_000,
);
