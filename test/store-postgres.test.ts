import { hostname } from 'node:os';

import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createLayoutRegistry, loadBuiltinLayouts } from '../src/layouts/index.js';
import { mirrorFor, viewsFor, type MirrorTable } from '../src/schema/index.js';
import type { LoadTransaction, MergeCounts, MergeInput, Store } from '../src/store/types.js';
import { createPostgresStore } from '../src/store/postgres/index.js';
import { hasInactiveSql, imageSql, q } from '../src/store/postgres/sql.js';
import { KEY_SEPARATOR, type Value } from '../src/validate/index.js';
import { batchesOf, closePgStore, openPgStore, stagedRows as stage, type PgSchema } from './helpers/postgres.js';

/**
 * The PostgreSQL adapter's mirror tables and merge, against the machine's PostgreSQL: one fresh
 * schema for the file, a school id per test so tests share tables without sharing rows.
 */

let target: PgSchema;
let store: Store;
let probe: pg.Client;

beforeAll(async () => ({ target, store, probe } = await openPgStore()));
afterAll(() => closePgStore({ target, store, probe }));

const layouts = loadBuiltinLayouts();
const views = viewsFor(createLayoutRegistry(null));
const stMirror = mirrorFor(layouts.get('ST')!, []);

/** One run of `school`: a session, a ledger row, one transaction around `fn`. */
async function run<T>(
  school: string,
  fn: (tx: LoadTransaction, runId: number) => Promise<T>,
  on: Store = store,
): Promise<{ runId: number; result: T }> {
  return on.withRunSession(school, 10_000, async (session) => {
    const runId = await session.startRun({
      school,
      trigger: 'cli',
      jobId: null,
      dryRun: false,
      sourceDir: '/srv/cases',
      host: hostname(),
      pid: process.pid,
      startedAt: new Date(),
    });
    return { runId, result: await session.transaction((tx) => fn(tx, runId)) };
  });
}

async function merge(
  school: string,
  mirror: MirrorTable,
  mode: MergeInput['mode'],
  columns: readonly string[],
  records: ReadonlyArray<readonly Value[]>,
  segmentRows?: number,
) {
  // A store of its own over the same schema stages a few rows per segment, to cross many of them.
  const on = segmentRows ? createPostgresStore(target.url, target.schema, { segmentRows }) : store;
  try {
    return await run(
      school,
      async (tx, runId) => {
        await tx.ensureMirror(mirror);
        return tx.mergeFile({ runId, school, mirror, mode, columns }, batchesOf(stage(mirror, columns, records)));
      },
      on,
    );
  } finally {
    if (on !== store) await on.close();
  }
}

const counts = (c: Partial<MergeCounts>): MergeCounts => ({
  inserted: 0,
  updated: 0,
  deactivated: 0,
  reactivated: 0,
  unchanged: 0,
  held: 0,
  deferred: 0,
  ...c,
});

async function rows(sql: string, params: unknown[] = []): Promise<Array<Record<string, unknown>>> {
  return (await probe.query(sql, params)).rows;
}

describe('mirror tables and views', () => {
  it('creates the mirror with real types, bookkeeping and the primary key', async () => {
    await run('1001', async (tx) => {
      await tx.ensureMirror(stMirror);
      await tx.ensureViews(views);
    });
    const types = new Map(
      (
        await rows(
          `SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'cases_st'`,
          [target.schema],
        )
      ).map((r) => [r.column_name as string, r]),
    );
    const firstOf = (type: string): string => stMirror.columns.find((c) => c.type === type)!.name;
    expect(types.get('school_id')).toMatchObject({ data_type: 'text', is_nullable: 'NO' });
    expect(types.get(firstOf('string'))?.data_type).toBe('text');
    expect(types.get(firstOf('flag'))?.data_type).toBe('text');
    expect(types.get(firstOf('smallint'))?.data_type).toBe('smallint');
    expect(types.get(firstOf('int'))?.data_type).toBe('integer');
    expect(types.get(firstOf('decimal'))?.data_type).toBe('numeric');
    expect(types.get(firstOf('float'))?.data_type).toBe('double precision');
    expect(types.get(firstOf('datetime'))?.data_type).toBe('timestamp without time zone');
    expect(types.get(firstOf('bytes'))?.data_type).toBe('bytea');
    expect(types.get('_active')).toMatchObject({ data_type: 'boolean', is_nullable: 'NO' });
    expect(types.get('_hash')).toMatchObject({ data_type: 'text', is_nullable: 'NO' });
    expect(types.get('_inserted_run')).toMatchObject({ data_type: 'bigint', is_nullable: 'NO' });
    expect(types.get('_changed_run')).toMatchObject({ data_type: 'bigint', is_nullable: 'NO' });
    expect(types.get('_deactivated_run')).toMatchObject({ data_type: 'bigint', is_nullable: 'YES' });
    const pk = await rows(
      `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'cases_st'::regclass AND contype = 'p'`,
    );
    expect(pk[0]?.def).toBe('PRIMARY KEY (school_id, stkey)');
    const fields = (await probe.query('SELECT * FROM students LIMIT 0')).fields.map((f) => f.name);
    expect(fields).toEqual(expect.arrayContaining(['school_id', 'student_id', 'given_names', 'home_group', 'active']));
  });

  it('adds the columns a table lacks and widens its views to them, and does no DDL when nothing changed', async () => {
    const sf = mirrorFor(layouts.get('SF')!, []);
    const narrow: MirrorTable = {
      ...sf,
      columns: sf.columns.filter((c) => c.name !== 'e_mail' && c.name !== 'mobile'),
    };
    const ensure = (mirror: MirrorTable) => async (tx: LoadTransaction) => {
      await tx.ensureMirror(mirror);
      await tx.ensureViews(views);
    };
    await run('1002', ensure(narrow));
    const before = (await probe.query('SELECT * FROM staff LIMIT 0')).fields.map((f) => f.name);
    expect(before).toContain('staff_id');
    expect(before).not.toContain('email');

    // A new CASES release brings a column no layout knows: it arrives as text.
    const wider = mirrorFor(layouts.get('SF')!, [
      { ...layouts.get('SF')!.columns[0]!, name: 'NEW_FIELD', type: 'string', description: null },
    ]);
    await run('1002', ensure(wider));
    const cols = (
      await rows(
        `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'cases_sf'`,
        [target.schema],
      )
    ).map((r) => `${r.column_name}:${r.data_type}`);
    expect(cols).toEqual(expect.arrayContaining(['e_mail:text', 'mobile:text', 'new_field:text']));
    expect((await probe.query('SELECT * FROM staff LIMIT 0')).fields.map((f) => f.name)).toEqual(
      expect.arrayContaining(['email', 'phone']),
    );

    const viewOid = async (): Promise<unknown> => (await rows(`SELECT 'staff'::regclass::oid AS oid`))[0]?.oid;
    const oid = await viewOid();
    await run('1002', ensure(wider));
    expect(await viewOid()).toBe(oid);
    // The column a new release brought has no description; the ones the layout knows have theirs.
    const described = await rows(
      `SELECT a.attname AS name, col_description(a.attrelid, a.attnum) AS text FROM pg_attribute a
       WHERE a.attrelid = 'cases_sf'::regclass AND a.attname IN ('e_mail', 'new_field') ORDER BY 1`,
    );
    expect(described).toEqual([
      { name: 'e_mail', text: 'E-mail address' },
      { name: 'new_field', text: null },
    ]);
  });

  it('comments a table made before cases-etl described its tables once, and then leaves it alone', async () => {
    const kgh = mirrorFor(layouts.get('KGH')!, []);
    await run('1003', (tx) => tx.ensureMirror(kgh));
    const comment = async (): Promise<unknown> =>
      (
        await rows(
          `SELECT obj_description('cases_kgh'::regclass, 'pg_class') AS t, col_description('cases_kgh'::regclass, 2) AS c`,
        )
      )[0];
    expect(await comment()).toEqual({
      t: expect.stringMatching(/^Houses \(CASES21 table KGH\)/),
      c: '(Was HOUSE) House code',
    });
    // As an earlier version left it: no comments at all.
    await probe.query(`COMMENT ON TABLE cases_kgh IS NULL; COMMENT ON COLUMN cases_kgh.kghkey IS NULL`);
    await run('1003', (tx) => tx.ensureMirror(kgh));
    expect(await comment()).toEqual({ t: expect.stringMatching(/^Houses/), c: '(Was HOUSE) House code' });
    // Described, it is not commented again: a comment changed by hand stays.
    await probe.query(`COMMENT ON COLUMN cases_kgh.kghkey IS 'ours'`);
    await run('1003', (tx) => tx.ensureMirror(kgh));
    expect(await comment()).toEqual({ t: expect.stringMatching(/^Houses/), c: 'ours' });
  });

  it("indexes each school's inactive rows alone, and gives an older table that index once", async () => {
    const kgc = mirrorFor(layouts.get('KGC')!, []);
    await run('1004', (tx) => tx.ensureMirror(kgc));
    const index = async (): Promise<unknown[]> =>
      (
        await rows(
          `SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'cases_kgc__inactive'`,
        )
      ).map((r) => r.indexdef);
    expect(await index()).toEqual([expect.stringMatching(/\(school_id\) WHERE \(NOT _active\)$/)]);
    // Whether a school has inactive rows is one step into it, not a walk through its active ones.
    const plan = await rows(`EXPLAIN ${hasInactiveSql(kgc)}`, ['1004']);
    expect(plan.map((r) => String(r['QUERY PLAN'])).join('\n')).toContain('cases_kgc__inactive');
    // As an earlier version left it: no such index. The next load makes it, then leaves the table alone.
    await probe.query('DROP INDEX cases_kgc__inactive');
    await run('1004', (tx) => tx.ensureMirror(kgc));
    expect(await index()).toHaveLength(1);
    const oid = async (): Promise<unknown> =>
      (await rows(`SELECT 'cases_kgc__inactive'::regclass::oid::int AS oid`))[0]?.oid;
    const before = await oid();
    await run('1004', (tx) => tx.ensureMirror(kgc));
    expect(await oid()).toBe(before);
  });
});

describe("a new mirror's primary key", () => {
  const primaryKey = async (table: string): Promise<unknown[]> =>
    (
      await rows(
        `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = to_regclass($1) AND contype = 'p'`,
        [table],
      )
    ).map((r) => `${r.conname}: ${r.def}`);

  it('is added once the first load is in, under the name an inline key gets, and holds from then on', async () => {
    const su = mirrorFor(layouts.get('SU')!, []);
    const columns = ['sukey', 'fullname'];
    const first = await run('3001', async (tx, runId) => {
      await tx.ensureMirror(su);
      // Created in this transaction: no key while its rows go in…
      expect(await primaryKey('cases_su')).toEqual([]);
      const counts = await tx.mergeFile(
        { runId, school: '3001', mirror: su, mode: 'full', columns },
        batchesOf(
          stage(su, columns, [
            ['ENG7', 'English'],
            ['MAT7', 'Maths'],
          ]),
        ),
      );
      return counts;
    });
    expect(first.result).toEqual(counts({ inserted: 2 }));
    // …and the key a CREATE TABLE would have declared once they are.
    expect(await primaryKey('cases_su')).toEqual(['cases_su_pkey: PRIMARY KEY (school_id, sukey)']);
    await expect(
      probe.query(
        `INSERT INTO cases_su (school_id, sukey, _hash, _inserted_run, _changed_run) VALUES ('3001', 'ENG7', 'x', 1, 1)`,
      ),
    ).rejects.toThrow(/duplicate key/);
    // A second school's first load goes into the keyed table.
    const second = await merge('3002', su, 'full', columns, [['ENG7', 'English']]);
    expect(second.result).toEqual(counts({ inserted: 1 }));
  });

  it('is forgotten with a table a rollback to the savepoint removes, and added at commit to one never loaded', async () => {
    const kcy = mirrorFor(layouts.get('KCY')!, []);
    await run('3003', async (tx) => {
      await tx.savepoint();
      await tx.ensureMirror(kcy);
      await tx.rollbackToSavepoint();
    });
    expect((await rows(`SELECT to_regclass('cases_kcy') AS t`))[0]?.t).toBeNull();
    await run('3003', async (tx) => {
      await tx.savepoint();
      await tx.ensureMirror(kcy);
    });
    expect(await primaryKey('cases_kcy')).toEqual(['cases_kcy_pkey: PRIMARY KEY (school_id, kcykey)']);
  });
});

describe('mergeFile', () => {
  const columns = ['stkey', 'surname', 'first_name', 'home_group', 'birthdate', 'dist_schl', 'registration'];
  const ann = ['ANN0001', 'Ng', 'Ann', '07A', '2011-03-04 00:00:00', 1.5, 12];
  const bob = ['BOB0001', 'Bell', 'Bob', '07A', '2011-05-06 00:00:00', 2.25, 13];
  const cat = ['CAT0001', 'Cole', 'Cat', '08B', '2010-07-08 00:00:00', null, 14];
  const dan = ['DAN0001', 'Dow', 'Dan', '09C', '2009-09-10 00:00:00', 0.5, 15];

  const changesOf = (runId: number) =>
    rows(`SELECT school_id, table_name, row_key, op, before, after FROM etl_changes WHERE run_id = $1 ORDER BY id`, [
      runId,
    ]);

  it('loads a full file, skips an unchanged re-run, then updates, deactivates and reactivates', async () => {
    const school = '2001';
    const night1 = await merge(school, stMirror, 'full', columns, [ann, bob, cat]);
    expect(night1.result).toEqual(counts({ inserted: 3 }));
    const inserted = await changesOf(night1.runId);
    expect(inserted.map((c) => [c.op, c.row_key, c.table_name, c.school_id, c.before])).toEqual([
      ['insert', 'ANN0001', 'ST', school, null],
      ['insert', 'BOB0001', 'ST', school, null],
      ['insert', 'CAT0001', 'ST', school, null],
    ]);
    // An insert's after image is the row's address; the row itself is in the mirror.
    expect(inserted[0]?.after).toEqual({ school_id: school, stkey: 'ANN0001' });
    expect(
      await rows(
        `SELECT surname, birthdate::text, dist_schl, _active, _inserted_run::int FROM cases_st WHERE school_id = $1 AND stkey = 'ANN0001'`,
        [school],
      ),
    ).toEqual([
      { surname: 'Ng', birthdate: '2011-03-04 00:00:00', dist_schl: 1.5, _active: true, _inserted_run: night1.runId },
    ]);

    const rerun = await merge(school, stMirror, 'full', columns, [ann, bob, cat]);
    expect(rerun.result).toEqual(counts({ unchanged: 3 }));
    expect(await changesOf(rerun.runId)).toEqual([]);
    expect(
      (await rows(`SELECT DISTINCT _changed_run FROM cases_st WHERE school_id = $1`, [school])).map((r) =>
        Number(r._changed_run),
      ),
    ).toEqual([night1.runId]);

    const annMarried = ['ANN0001', 'Ng-Park', 'Ann', '07A', '2011-03-04 00:00:00', 1.5, 12];
    const night2 = await merge(school, stMirror, 'full', columns, [annMarried, cat, dan]);
    expect(night2.result).toEqual(counts({ inserted: 1, updated: 1, deactivated: 1, unchanged: 1 }));
    const changes2 = await changesOf(night2.runId);
    expect(changes2.map((c) => [c.op, c.row_key]).sort()).toEqual([
      ['deactivate', 'BOB0001'],
      ['insert', 'DAN0001'],
      ['update', 'ANN0001'],
    ]);
    const update = changes2.find((c) => c.op === 'update')!;
    expect(update.before).toMatchObject({ surname: 'Ng', _changed_run: night1.runId });
    expect(update.after).toMatchObject({ surname: 'Ng-Park', _changed_run: night2.runId, _inserted_run: night1.runId });
    // A deactivation's images: the row's address and the bookkeeping it changed, nulls written out.
    const gone = changes2.find((c) => c.op === 'deactivate')!;
    expect(gone.before).toEqual({
      school_id: school,
      stkey: 'BOB0001',
      _active: true,
      _changed_run: night1.runId,
      _deactivated_run: null,
    });
    expect(gone.after).toEqual({
      school_id: school,
      stkey: 'BOB0001',
      _active: false,
      _deactivated_run: night2.runId,
      _changed_run: night2.runId,
    });

    const bobBack = ['BOB0001', 'Bell', 'Bob', '08A', '2011-05-06 00:00:00', 2.25, 13];
    const night3 = await merge(school, stMirror, 'full', columns, [annMarried, bobBack, cat, dan]);
    expect(night3.result).toEqual(counts({ reactivated: 1, unchanged: 3 }));
    const [back] = await changesOf(night3.runId);
    expect(back).toMatchObject({
      op: 'reactivate',
      row_key: 'BOB0001',
      before: { _active: false, home_group: '07A' },
      after: { _active: true, home_group: '08A' },
    });
    const bobRow = (
      await rows(
        `SELECT _active, _inserted_run, _changed_run, _deactivated_run, home_group FROM cases_st WHERE school_id = $1 AND stkey = 'BOB0001'`,
        [school],
      )
    )[0];
    expect(bobRow).toEqual({
      _active: true,
      _inserted_run: String(night1.runId),
      _changed_run: String(night3.runId),
      _deactivated_run: null,
      home_group: '08A',
    });

    // A file without some columns: the row's content is the file's row, so those become NULL.
    const night4 = await merge(
      school,
      stMirror,
      'full',
      ['stkey', 'surname'],
      [
        ['ANN0001', 'Ng-Park'],
        ['BOB0001', 'Bell'],
        ['CAT0001', 'Cole'],
        ['DAN0001', 'Dow'],
      ],
    );
    expect(night4.result).toEqual(counts({ updated: 4 }));
    const ann4 = (
      await rows(
        `SELECT surname, first_name, birthdate, registration FROM cases_st WHERE school_id = $1 AND stkey = 'ANN0001'`,
        [school],
      )
    )[0];
    expect(ann4).toEqual({ surname: 'Ng-Park', first_name: null, birthdate: null, registration: null });

    // Another school's rows are its own: untouched by all of the above.
    expect(
      await rows(`SELECT count(*)::int AS n FROM cases_st WHERE school_id <> $1 AND school_id LIKE '200%'`, [school]),
    ).toEqual([{ n: 0 }]);
  });

  it('upserts a delta and never deactivates', async () => {
    const school = '2002';
    await merge(school, stMirror, 'full', columns, [ann, bob]);
    const annMoved = ['ANN0001', 'Ng', 'Ann', '08A', '2011-03-04 00:00:00', 1.5, 12];
    const delta = await merge(school, stMirror, 'delta', columns, [annMoved, dan]);
    expect(delta.result).toEqual(counts({ inserted: 1, updated: 1 }));
    const active = await rows(`SELECT stkey, _active, home_group FROM cases_st WHERE school_id = $1 ORDER BY stkey`, [
      school,
    ]);
    expect(active).toEqual([
      { stkey: 'ANN0001', _active: true, home_group: '08A' },
      { stkey: 'BOB0001', _active: true, home_group: '07A' },
      { stkey: 'DAN0001', _active: true, home_group: '09C' },
    ]);
  });

  it('merges a full file then a delta of the same table in one transaction', async () => {
    const school = '2003';
    const bobMoved = ['BOB0001', 'Bell', 'Bob', '09A', '2011-05-06 00:00:00', 2.25, 13];
    const { result } = await run(school, async (tx, runId) => {
      await tx.ensureMirror(stMirror);
      const input = { runId, school, mirror: stMirror, columns };
      const full = await tx.mergeFile({ ...input, mode: 'full' }, batchesOf(stage(stMirror, columns, [ann, bob])));
      const delta = await tx.mergeFile(
        { ...input, mode: 'delta' },
        batchesOf(stage(stMirror, columns, [bobMoved, cat])),
      );
      return { full, delta };
    });
    expect(result).toEqual({ full: counts({ inserted: 2 }), delta: counts({ inserted: 1, updated: 1 }) });
    expect(await rows(`SELECT count(*)::int AS n FROM cases_st WHERE school_id = $1 AND _active`, [school])).toEqual([
      { n: 3 },
    ]);
  });

  it('applies a re-run a few rows at a time exactly as it applies it at once', async () => {
    const student = (i: number, group = '07A', surname = `S${i}`): Value[] => [
      `K${String(i).padStart(4, '0')}`,
      surname,
      'F',
      group,
      null,
      i / 4,
      i,
    ];
    const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, k) => from + k);
    // Night 2 of each school: 0–9 unchanged, 10–19 and 30–39 changed, 20–24 gone, 25–29 unchanged, 40–49 new, in mixed order.
    const night2 = [...range(40, 50), ...range(0, 20), ...range(25, 40)].map((i) =>
      (i >= 10 && i < 20) || (i >= 30 && i < 40) ? student(i, '08B') : student(i),
    );
    // Night 3: 20–22 back (reactivated), 0–4 changed, the rest as night 2.
    const night3 = [
      ...night2.filter((r) => !['K0000', 'K0001', 'K0002', 'K0003', 'K0004'].includes(r[0] as string)),
      ...range(0, 5).map((i) => student(i, '07A', `T${i}`)),
      ...range(20, 23).map((i) => student(i)),
    ];
    const outcome = async (school: string, segmentRows?: number) => {
      const nights = [];
      for (const night of [range(0, 40).map((i) => student(i)), night2, night3]) {
        const { runId, result } = await merge(school, stMirror, 'full', columns, night, segmentRows);
        const changes = await changesOf(runId);
        nights.push({
          result,
          changes: changes
            .map((c) => [
              c.op,
              c.row_key,
              (c.before as Record<string, unknown> | null)?.surname ?? null,
              (c.after as Record<string, unknown> | null)?.home_group ?? null,
            ])
            .sort(),
        });
      }
      const table = await rows(
        `SELECT stkey, surname, home_group, dist_schl, _active, _deactivated_run IS NULL AS live FROM cases_st WHERE school_id = $1 ORDER BY stkey`,
        [school],
      );
      return { nights, table };
    };
    const inSegments = await outcome('2010', 3);
    const atOnce = await outcome('2011');
    expect(inSegments).toEqual(atOnce);
    expect(inSegments.nights.map((n) => n.result)).toEqual([
      counts({ inserted: 40 }),
      counts({ inserted: 10, updated: 20, deactivated: 5, unchanged: 15 }),
      counts({ updated: 5, reactivated: 3, unchanged: 40 }),
    ]);
    expect(inSegments.table).toHaveLength(50);
    expect(inSegments.table.filter((r) => !r._active).map((r) => r.stkey)).toEqual(['K0023', 'K0024']);
    expect(inSegments.table.find((r) => r.stkey === 'K0003')).toMatchObject({ surname: 'T3', home_group: '07A' });
    expect(inSegments.table.find((r) => r.stkey === 'K0033')).toMatchObject({
      surname: 'S33',
      home_group: '08B',
      _active: true,
    });
  });

  it('builds row keys of composite int and date keys exactly as the validator does', async () => {
    const school = '2004';
    const mirror: MirrorTable = {
      table: 'ZZK',
      name: 'cases_zzk',
      key: ['id', 'day'],
      columns: [
        { name: 'id', source: 'ID', type: 'int' },
        { name: 'day', source: 'DAY', type: 'date' },
        { name: 'note', source: 'NOTE', type: 'string' },
      ],
    };
    const cols = ['id', 'day', 'note'];
    await merge(school, mirror, 'full', cols, [
      [7, '2024-02-01', 'a'],
      [12, '2024-02-29', 'b'],
    ]);
    const night2 = await merge(school, mirror, 'full', cols, [[7, '2024-02-01', 'a']]);
    expect(night2.result).toEqual(counts({ deactivated: 1, unchanged: 1 }));
    expect((await changesOf(night2.runId)).map((c) => c.row_key)).toEqual([`12${KEY_SEPARATOR}2024-02-29`]);
    expect(stage(mirror, cols, [[12, '2024-02-29', 'b']])[0]?.key).toBe(`12${KEY_SEPARATOR}2024-02-29`);
  });

  it('finds unchanged and missing rows by keys holding tabs, backslashes, line breaks and non-ASCII text', async () => {
    const school = '2008';
    const keys = ['tab\tkey', 'back\\slash\\N', 'line\nbreak', 'Zoë–日本', "o'quote", 'plain'];
    const records = keys.map((k, i) => [k, `S${i}`, null, null, null, null, null]);
    expect((await merge(school, stMirror, 'full', columns, records)).result).toEqual(counts({ inserted: keys.length }));
    // The re-run reads these keys back out of PostgreSQL and must match every one of them.
    expect((await merge(school, stMirror, 'full', columns, records)).result).toEqual(
      counts({ unchanged: keys.length }),
    );
    // Without the first three, exactly those three are deactivated: their keys went back in typed.
    const night3 = await merge(school, stMirror, 'full', columns, records.slice(3));
    expect(night3.result).toEqual(counts({ deactivated: 3, unchanged: keys.length - 3 }));
    const inactive = await rows(`SELECT stkey FROM cases_st WHERE school_id = $1 AND NOT _active ORDER BY stkey`, [
      school,
    ]);
    expect(inactive.map((r) => r.stkey).sort()).toEqual(keys.slice(0, 3).sort());
  });

  it('deactivates a few rows by address and many through a temporary table, logging each once', async () => {
    const school = '2091';
    const records = Array.from({ length: 2_600 }, (_, i) => [
      `M${String(i).padStart(5, '0')}`,
      `S${i}`,
      null,
      null,
      null,
      null,
      null,
    ]);
    expect((await merge(school, stMirror, 'full', columns, records)).result).toEqual(counts({ inserted: 2_600 }));
    // 2,500 gone: more than go as an array of addresses.
    const many = await merge(school, stMirror, 'full', columns, records.slice(0, 100));
    expect(many.result).toEqual(counts({ deactivated: 2_500, unchanged: 100 }));
    // Then 10 of the rest: a few, by address.
    const few = await merge(school, stMirror, 'full', columns, records.slice(0, 90));
    expect(few.result).toEqual(counts({ deactivated: 10, unchanged: 90 }));
    const logged = await rows(
      `SELECT run_id::int, count(*)::int AS n, count(DISTINCT row_key)::int AS keys FROM etl_changes WHERE school_id = $1 AND op = 'deactivate' GROUP BY run_id ORDER BY run_id`,
      [school],
    );
    expect(logged).toEqual([
      { run_id: many.runId, n: 2_500, keys: 2_500 },
      { run_id: few.runId, n: 10, keys: 10 },
    ]);
    const active = await rows(`SELECT count(*)::int AS n FROM cases_st WHERE school_id = $1 AND _active`, [school]);
    expect(active).toEqual([{ n: 90 }]);
  });

  it('round-trips tabs, newlines, backslashes, quotes and non-ASCII text exactly', async () => {
    const school = '2005';
    const tricky = [
      'tab\there',
      'line\nbreak\r\nwindows',
      'back\\slash \\N \\t',
      `quotes ' " and , commas`,
      'Zoë Ó Súilleabháin – 日本語 😀',
      '\\N',
      '   padded   ',
      // Empty is not null; a lone quote, and a field that reads as COPY's end of data.
      '',
      '"',
      '\\.',
    ];
    const records = tricky.map((s, i) => [`T${i}`, s, null, null, null, null, null]);
    const loaded = await merge(school, stMirror, 'full', columns, records);
    expect(loaded.result).toEqual(counts({ inserted: tricky.length }));
    const back = await rows(`SELECT stkey, surname, first_name FROM cases_st WHERE school_id = $1 ORDER BY stkey`, [
      school,
    ]);
    expect(back).toEqual(tricky.map((s, i) => ({ stkey: `T${i}`, surname: s, first_name: null })));
    // Loaded again, every row hashes the same and compares equal: nothing is rewritten.
    expect((await merge(school, stMirror, 'full', columns, records)).result).toEqual(
      counts({ unchanged: tricky.length }),
    );
    // Changed, the before and after images carry the text exactly.
    const changed = tricky.map((s, i) => [`T${i}`, `${s}!`, null, null, null, null, null]);
    const update = await merge(school, stMirror, 'full', columns, changed);
    expect(update.result).toEqual(counts({ updated: tricky.length }));
    const logged = await rows(
      `SELECT before->>'surname' AS before, after->>'surname' AS after FROM etl_changes WHERE run_id = $1 ORDER BY row_key`,
      [update.runId],
    );
    expect(logged).toEqual(tricky.map((s) => ({ before: s, after: `${s}!` })));
  });

  it("logs a first load's inserts under their keys exactly, whatever the keys hold", async () => {
    const school = '2012';
    const keys = ['PLAIN01', 'quo"te', 'back\\slash', 'tab\there', 'new\nline', 'Zoë’s', 'emoji😀', 'ctl\u0001x'];
    const loaded = await merge(
      school,
      stMirror,
      'full',
      columns,
      keys.map((k) => [k, 'S', null, null, null, null, null]),
    );
    expect(loaded.result).toEqual(counts({ inserted: keys.length }));
    const logged = await rows(`SELECT row_key, after FROM etl_changes WHERE run_id = $1 ORDER BY id`, [loaded.runId]);
    expect(logged).toEqual(keys.map((k) => ({ row_key: k, after: { school_id: school, stkey: k } })));
  });

  it('drops U+0000, which PostgreSQL text cannot hold, instead of failing the file', async () => {
    const school = '2006';
    await merge(school, stMirror, 'full', columns, [['NUL0001', 'A\u0000B', null, null, null, null, null]]);
    expect(await rows(`SELECT surname FROM cases_st WHERE school_id = $1`, [school])).toEqual([{ surname: 'AB' }]);
  });

  it('refuses a file without the key column', async () => {
    await expect(merge('2007', stMirror, 'full', ['surname'], [['Ng']])).rejects.toThrow(/lacks the key column stkey/);
  });

  it('writes change images exactly as json_strip_nulls(row_to_json(row)) would, for every type and more columns than a call takes', async () => {
    // 30 columns of each of seven types, several groups of concat_ws, and rows with whole groups null.
    const types = ['text', 'integer', 'double precision', 'numeric', 'timestamp', 'boolean', 'bytea'];
    const cols = Array.from({ length: 210 }, (_, i) => ({
      name: i === 3 ? 'Odd "name"' : `c${i}`,
      type: types[i % types.length] as string,
    }));
    await probe.query(`CREATE TEMP TABLE images (${cols.map((c) => `${q(c.name)} ${c.type}`).join(', ')})`);
    const value = (type: string, seed: number): string | null => {
      if (seed % 3 === 0) return null;
      switch (type) {
        case 'text':
          return ['plain', 'quote " back \\ slash', 'tab\tline\nbreak', 'Zoë 日本 😀', '\u0001ctl', ''][
            seed % 6
          ] as string;
        case 'integer':
          return String(seed * 7919 - 50000);
        case 'double precision':
          return ['1.5', 'NaN', 'Infinity', '-Infinity', '1e-300', '0.1'][seed % 6] as string;
        case 'numeric':
          return ['12.50', '-0.001', '1e20', 'NaN'][seed % 4] as string;
        case 'timestamp':
          return ['2011-03-04 00:00:00', '1999-12-31 23:59:59.5', 'infinity'][seed % 3] as string;
        case 'boolean':
          return seed % 2 ? 'true' : 'false';
        default:
          return '\\x00ff10';
      }
    };
    for (let r = 0; r < 40; r++) {
      // Row 0 is all null; rows 1–3 null all but one group.
      const values = cols.map((c, i) =>
        r === 0 || (r <= 3 && Math.floor(i / 90) !== r - 1) ? null : value(c.type, r * 31 + i),
      );
      await probe.query(`INSERT INTO images VALUES (${values.map((_, i) => `$${i + 1}`).join(', ')})`, values);
    }
    const mismatches = await rows(
      `SELECT ${imageSql(
        'm',
        cols.map((c) => c.name),
      )}::text AS ours, json_strip_nulls(row_to_json(m))::text AS theirs FROM images m
       WHERE ${imageSql(
         'm',
         cols.map((c) => c.name),
       )}::text IS DISTINCT FROM json_strip_nulls(row_to_json(m))::text`,
    );
    expect(mismatches).toEqual([]);
    expect(
      await rows(
        `SELECT ${imageSql(
          'm',
          cols.map((c) => c.name),
        )}::text AS image FROM images m LIMIT 1`,
      ),
    ).toEqual([{ image: '{}' }]);
    expect((await rows(`SELECT count(*)::int AS n FROM images`))[0]?.n).toBe(40);
  });
});
