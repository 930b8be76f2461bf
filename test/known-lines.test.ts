import { readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { generateSchool } from '../src/generate/index.js';
import { runEtl, type EtlResult } from '../src/pipeline/index.js';
import { editCsv, readCsv, writeCsv } from './helpers/nights.js';
import { createTarget, DIALECTS, type Dialect, type Probe } from './helpers/targets.js';

/**
 * Re-runs skip the lines their rows were read from (line hashes, see extract/line-hash.ts), on
 * both databases: the same nights on both must end in the same rows, rejects and counts, and as
 * reading every line would (a forced run after the line hashes are cleared, or columns moved):
 * whatever the skipping does, it must not be visible.
 */

const STUDENTS = 2000;

interface Night {
  readonly result: EtlResult;
  readonly st: {
    rows: number;
    known: number;
    inserted: number;
    updated: number;
    deactivated: number;
    unchanged: number;
    rejected: number;
  };
}

interface World {
  readonly src: string;
  /** A reader of the database, opened once it exists. */
  probe(): Promise<Probe>;
  /** Changes the database behind the run's back (the probe only reads). */
  write(sql: string): Promise<void>;
  close(): Promise<void>;
  run(force?: boolean): Promise<Night>;
}

async function world(dialect: Dialect): Promise<World> {
  const target = await createTarget(dialect);
  const src = join(target.dir, 'export');
  await generateSchool({ outDir: src, students: STUDENTS, seed: 5 });
  // Written once the way the edits below write it, so only edited lines differ between nights.
  await editCsv(join(src, 'ST_8865.csv'), (rows) => rows);
  let probe: Probe | null = null;
  return {
    src,
    probe: async () => (probe ??= await target.probe()),
    async write(sql) {
      if (dialect === 'postgres') return void (await (probe ??= await target.probe()).all(sql));
      const db = new BetterSqlite3((target.env.DATABASE_URL as string).replace(/^sqlite:/, ''));
      try {
        db.exec(sql);
      } finally {
        db.close();
      }
    },
    async close() {
      await probe?.close();
      await target.cleanup();
    },
    async run(force = false) {
      const result = await runEtl({ config: target.config({ CASES_DIRECTORY: src }), force });
      const t = result.runs[0]?.tables.find((x) => x.table === 'ST');
      if (!t) throw new Error(`no ST in run: ${result.status} ${result.runs[0]?.reason}`);
      return {
        result,
        st: {
          rows: t.rows,
          known: t.known,
          inserted: t.inserted,
          updated: t.updated,
          deactivated: t.deactivated,
          unchanged: t.unchanged,
          rejected: t.rejected,
        },
      };
    },
  };
}

/** The second night: one change in the middle, two leavers, a newcomer, and three kinds of duplicate. */
async function secondNight(src: string): Promise<void> {
  await editCsv(join(src, 'ST_8865.csv'), (rows, col) => {
    const key = col('STKEY');
    const surname = col('SURNAME');
    const out = rows.map((r) => [...r]);
    (out[1500] as string[])[surname] = 'CHANGED';
    const newcomer = [...(out[1700] as string[])];
    newcomer[key] = 'NEW00001';
    // A changed copy of row 1900 early in the file: it wins, and row 1900's own (known) line is a duplicate.
    const early = [...(out[1900] as string[])];
    early[surname] = 'EARLIER';
    const exact = [...(out[1800] as string[])];
    // An exact copy of row 1950 in the first stretch, read before lines are skipped: row 1950's own line is then a duplicate.
    const first = [...(out[1950] as string[])];
    const kept = out.filter((_, i) => i !== 1600 && i !== 1601);
    return [...kept.slice(0, 5), first, ...kept.slice(5, 1000), early, ...kept.slice(1000), newcomer, exact];
  });
}

/** Every ST row's CASES values and state, and the night's rejects: what both dialects must agree on. */
async function outcome(probe: Probe, runId: number): Promise<unknown> {
  const rows = await probe.all(`SELECT stkey, surname, first_name, _active, _hash FROM cases_st ORDER BY stkey`);
  const rejects = await probe.all(
    `SELECT file_name, line, row_key, field, code, message FROM etl_rejects WHERE run_id = ${runId} ORDER BY file_name, line`,
  );
  return { rows, rejects };
}

describe('known lines', () => {
  const worlds = new Map<Dialect, World>();
  beforeAll(async () => {
    for (const d of DIALECTS) worlds.set(d, await world(d));
  }, 60_000);
  afterAll(async () => {
    for (const w of worlds.values()) await w.close();
  });

  it('skip unchanged lines on re-runs, alike on both databases, and end exactly where reading every line ends', async () => {
    const results = new Map<Dialect, { first: Night; forced: Night; second: Night; state: unknown }>();
    for (const [d, w] of worlds) {
      const first = await w.run();
      const forced = await w.run(true);
      await secondNight(w.src);
      const second = await w.run();
      results.set(d, { first, forced, second, state: await outcome(await w.probe(), second.result.runId as number) });
    }
    const lite = results.get('sqlite');
    const pg = results.get('postgres');
    if (!lite || !pg) throw new Error('both dialects ran');

    // A first load reads every line; a re-run skips what the school's rows were read from, on
    // either database (one reader, one merge plan): the same lines, the same counts.
    for (const n of [lite.first, pg.first]) expect(n.st.known).toBe(0);
    expect(pg.forced.st).toEqual(lite.forced.st);
    expect(lite.forced.st).toMatchObject({ rows: STUDENTS, unchanged: STUDENTS, inserted: 0, updated: 0 });
    // Every line is skipped, quoted ones included: the header is read before any data line.
    expect(lite.forced.st.known).toBe(STUDENTS);

    expect(lite.second.st).toEqual({
      rows: STUDENTS + 1 - 2,
      known: lite.second.st.known,
      inserted: 1,
      updated: 2,
      deactivated: 2,
      unchanged: STUDENTS - 4,
      rejected: 3,
    });
    expect(pg.second.st).toEqual(lite.second.st);
    // Every unchanged row was skipped unread; only the changed, new and repeated lines were read.
    expect(lite.second.st.known).toBe(lite.second.st.unchanged);
    expect(pg.state).toEqual(lite.state);
    // Each duplicate is the second line of its key and names the first (records may span lines, so they are looked up).
    const lines = (await readFile(join((worlds.get('sqlite') as World).src, 'ST_8865.csv'), 'latin1')).split(/\r?\n/);
    const linesOf = (key: string): number[] => lines.flatMap((l, i) => (l.startsWith(`${key},`) ? [i + 1] : []));
    const { rejects } = lite.state as { rejects: Array<Record<string, unknown>> };
    expect(rejects).toHaveLength(3);
    for (const r of rejects) {
      const [first, second] = linesOf(String(r.row_key));
      expect([r.code, r.line, r.message]).toEqual([
        'ETL_ROW_DUPLICATE_KEY',
        second,
        `the key already appeared on line ${first}; the first row is kept`,
      ]);
    }
  }, 120_000);

  it.each(DIALECTS)(
    'bring line hashes up to date without logging a change, read every line again when the columns move, and add the column to older tables (%s)',
    async (dialect) => {
      const w = worlds.get(dialect) as World;
      const st = join(w.src, 'ST_8865.csv');
      const probe = await w.probe();
      const changes = async (): Promise<number> =>
        Number((await probe.all(`SELECT count(*) AS n FROM etl_changes`))[0]?.n);
      const before = await changes();
      const full = (await w.run(true)).st;
      // As if loaded by a version without line hashes, or from lines written another way.
      await w.write(
        `UPDATE cases_st SET _line_hash = NULL WHERE stkey IN (SELECT stkey FROM cases_st WHERE _active ORDER BY stkey DESC LIMIT 300)`,
      );
      const blind = (await w.run(true)).st;
      expect(blind).toEqual({ ...full, known: blind.known });
      expect(blind.known).toBeLessThan(full.known - 200);
      expect(await probe.all(`SELECT count(*) AS n FROM cases_st WHERE _active AND _line_hash IS NULL`)).toEqual([
        { n: 0 },
      ]);
      expect((await w.run(true)).st).toEqual(full);

      // The same rows with two columns swapped: other text, the same values.
      const csv = await readCsv(st);
      const [a, b] = [csv.header.indexOf('SURNAME'), csv.header.indexOf('FIRST_NAME')];
      const swap = (r: string[]): string[] =>
        r.map((v, i) => (i === a ? (r[b] as string) : i === b ? (r[a] as string) : v));
      await writeCsv(st, { header: swap(csv.header), rows: csv.rows.map(swap) });
      expect((await w.run(true)).st).toEqual({ ...full, known: 0 });
      expect((await w.run(true)).st).toEqual(full);

      // A table made before line hashes: the column is added, filled, and used from the night after.
      await w.write(`ALTER TABLE cases_st DROP COLUMN _line_hash`);
      expect((await w.run(true)).st).toEqual({ ...full, known: 0 });
      expect((await w.run(true)).st).toEqual(full);
      expect(await changes()).toBe(before);
    },
    120_000,
  );
});

describe('known fixed-width lines', () => {
  const dirs = new Map<
    Dialect,
    { run: (force?: boolean) => Promise<Record<string, number>>; src: string; close: () => Promise<void> }
  >();
  beforeAll(async () => {
    for (const d of DIALECTS) {
      const target = await createTarget(d);
      const src = join(target.dir, 'export');
      await generateSchool({ outDir: src, students: STUDENTS, seed: 9, format: 'fixed' });
      const env = {
        CASES_DIRECTORY: src,
        CASES_RELATIONSHIPS_JSON: join(src, 'relationships.json'),
        CASES_SCHOOL_ID: '8865',
      };
      dirs.set(d, {
        src,
        close: () => target.cleanup(),
        async run(force = false) {
          const result = await runEtl({ config: target.config(env), force });
          const t = result.runs[0]?.tables.find((x) => x.file === 'STUDENT.DAT');
          if (!t) throw new Error(`no STUDENT.DAT in run: ${result.status} ${result.runs[0]?.reason}`);
          return {
            rows: t.rows,
            known: t.known,
            inserted: t.inserted,
            updated: t.updated,
            deactivated: t.deactivated,
            unchanged: t.unchanged,
            rejected: t.rejected,
          };
        },
      });
    }
  }, 60_000);
  afterAll(async () => {
    for (const d of dirs.values()) await d.close();
  });

  it('are skipped on re-runs too, alike on both databases, with the same outcome as reading them', async () => {
    const nights = new Map<Dialect, Array<Record<string, number>>>();
    for (const [d, w] of dirs) {
      const first = await w.run();
      const forced = await w.run(true);
      // One changed line (same width), one leaver.
      const path = join(w.src, 'STUDENT.DAT');
      const lines = (await readFile(path, 'latin1')).split('\r\n');
      const line = lines[1500] as string;
      lines[1500] = line.slice(0, 10) + 'CHANGED'.padEnd(30) + line.slice(40);
      lines.splice(1600, 1);
      await writeFile(path, lines.join('\r\n'), 'latin1');
      await utimes(path, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
      nights.set(d, [first, forced, await w.run()]);
    }
    const [liteFirst, liteForced, liteSecond] = nights.get('sqlite') as Array<Record<string, number>>;
    const [pgFirst, pgForced, pgSecond] = nights.get('postgres') as Array<Record<string, number>>;
    expect(liteFirst).toMatchObject({ rows: STUDENTS, inserted: STUDENTS, known: 0 });
    expect(pgFirst).toEqual(liteFirst);
    expect(liteForced).toMatchObject({ rows: STUDENTS, unchanged: STUDENTS });
    expect(pgForced).toEqual(liteForced);
    // Every line but the first stretch's (read before the digest: 32 KiB) is skipped.
    expect(liteForced?.known).toBeGreaterThan(STUDENTS - 200);
    expect(liteSecond).toMatchObject({
      rows: STUDENTS - 1,
      updated: 1,
      deactivated: 1,
      unchanged: STUDENTS - 2,
    });
    expect(pgSecond).toEqual(liteSecond);
    expect(liteSecond?.known).toBeGreaterThan(STUDENTS - 200);
  }, 120_000);
});
