import { symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, symlink, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { renderRun } from '../src/cli/commands/run.js';
import { filesetChecksum, sha256File, type Manifest, type ManifestEntry } from '../src/load/index.js';
import {
  rollbackRun,
  runEtl,
  type EtlResult,
  type ProgressEvent,
  type SchoolRunResult,
} from '../src/pipeline/index.js';
import { copySample, editCsv, readCsv, writeCsv } from './helpers/nights.js';
import { createTarget, DIALECTS, type Probe, type Target } from './helpers/targets.js';

describe.each(DIALECTS)('loading on %s', (dialect) => {
  let target: Target;
  let probe: Probe;
  let src: string;

  beforeEach(async () => {
    target = await createTarget(dialect);
    src = join(target.dir, 'export');
    await copySample(src);
  });
  afterEach(async () => {
    await probe?.close();
    await target.cleanup();
  });

  const run = (extra: Record<string, string> = {}, options: Parameters<typeof runEtl>[0] = {}): Promise<EtlResult> =>
    runEtl({ config: target.config({ CASES_DIRECTORY: src, ...extra }), ...options });
  const st = (path = 'ST_8865.csv'): string => join(src, path);
  const one = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T> =>
    (await probe.all(sql, params))[0] as T;
  const count = async (sql: string, params: unknown[] = []): Promise<number> =>
    Number((await one<{ n: number }>(sql, params)).n);

  it('loads a first night, skips the same files again, and writes nothing on an unchanged forced re-run', async () => {
    const first = await run();
    expect(first).toMatchObject({ status: 'succeeded', success: true, errors: [] });
    expect(first.stats).toMatchObject({ files: 16, rejected: 0, updated: 0, deactivated: 0 });
    expect(first.stats.inserted).toBe(first.stats.rows);
    probe = await target.probe();
    expect(await count(`SELECT count(*) AS n FROM cases_st WHERE school_id = '8865'`)).toBe(200);
    expect(await count(`SELECT count(*) AS n FROM students WHERE active`)).toBe(200);
    expect(await count(`SELECT count(*) AS n FROM etl_changes WHERE run_id = ? AND op = 'insert'`, [first.runId])).toBe(
      first.stats.rows,
    );
    if (dialect === 'sqlite') {
      // Each mirror table a first load made has its index of active rows, built once its rows were in.
      const indexed = await probe.all(
        `SELECT t.name AS name, (SELECT count(*) FROM sqlite_master AS i WHERE i.type = 'index' AND i.tbl_name = t.name AND i.name = t.name || '__active') AS n
           FROM sqlite_master AS t WHERE t.type = 'table' AND t.name GLOB 'cases_*' AND t.name NOT GLOB 'cases_etl_*'`,
      );
      expect(indexed.length).toBe(16);
      expect(indexed.filter((r) => Number(r.n) !== 1)).toEqual([]);
    }
    const student = await one(`SELECT * FROM students WHERE student_id = (SELECT min(stkey) FROM cases_st)`);
    expect(Object.keys(student)).toEqual(
      expect.arrayContaining([
        'school_id',
        'student_id',
        'surname',
        'given_names',
        'date_of_birth',
        'sex',
        'home_group',
        'house',
        'year_level',
        'email',
        'phone',
        'active',
      ]),
    );

    const again = await run();
    expect(again).toMatchObject({ status: 'skipped', success: true });
    expect(again.runs[0]?.reason).toBe(`this file set was already published by run ${first.runId}`);

    const forced = await run({}, { force: true });
    expect(forced.status).toBe('succeeded');
    expect(forced.stats).toMatchObject({
      inserted: 0,
      updated: 0,
      deactivated: 0,
      reactivated: 0,
      unchanged: first.stats.rows,
    });
    expect(await count(`SELECT count(*) AS n FROM etl_changes WHERE run_id = ?`, [forced.runId])).toBe(0);
    expect(await count(`SELECT count(*) AS n FROM cases_st WHERE _changed_run <> ?`, [first.runId])).toBe(0);
    const ledger = await probe.all(`SELECT id, status, overrides FROM etl_runs ORDER BY id`);
    expect(ledger.map((r) => r.status)).toEqual(['succeeded', 'skipped', 'succeeded']);
    expect(String(ledger[2]?.overrides)).toContain('force');
    // A forced run works its checksums out while it loads; it records the same ones.
    const sets = await probe.all(`SELECT fileset_sha256 FROM etl_runs ORDER BY id`);
    const names = (await readdir(src)).sort();
    const sums = await Promise.all(names.map(async (name) => ({ name, sha256: await sha256File(join(src, name)) })));
    expect(sets.map((r) => r.fileset_sha256)).toEqual(Array(3).fill(filesetChecksum(sums)));
    const files = await probe.all(`SELECT file_name, sha256 FROM etl_run_files WHERE run_id = ? ORDER BY file_name`, [
      forced.runId,
    ]);
    expect(files.map((f) => ({ name: f.file_name, sha256: f.sha256 }))).toEqual(sums);
  });

  it('applies a second night: new students, changed names, leavers deactivated, and one returning reactivated', async () => {
    const night1 = await run();
    const original = await readCsv(st());
    const key = original.header.indexOf('STKEY');
    const surname = original.header.indexOf('SURNAME');
    const reg = original.header.indexOf('REGISTRATION');
    const [gone1, gone2, gone3, changed1, changed2] = original.rows.slice(0, 5).map((r) => r[key] as string);
    await editCsv(st(), (rows) => {
      const kept = rows.filter((r) => ![gone1, gone2, gone3].includes(r[key] as string));
      for (const r of kept) if (r[key] === changed1 || r[key] === changed2) r[surname] = `${r[surname]}-SMITH`;
      const newcomer = (n: number): string[] => {
        const r = [...(kept[10] as string[])];
        r[key] = `NEW000${n}`;
        r[reg] = String(900000 + n);
        return r;
      };
      return [...kept, newcomer(1), newcomer(2)];
    });
    const night2 = await run();
    expect(night2.status).toBe('succeeded');
    const stTable = night2.runs[0]?.tables.find((t) => t.table === 'ST');
    expect(stTable).toMatchObject({ inserted: 2, updated: 2, deactivated: 3, reactivated: 0, unchanged: 195 });
    expect(
      night2.runs[0]?.tables.filter((t) => t.table !== 'ST').every((t) => t.inserted + t.updated + t.deactivated === 0),
    ).toBe(true);

    probe = await target.probe();
    const leaver = await one(
      `SELECT _active, _deactivated_run, _changed_run, _inserted_run FROM cases_st WHERE stkey = ?`,
      [gone1],
    );
    expect(leaver).toEqual({
      _active: 0,
      _deactivated_run: night2.runId,
      _changed_run: night2.runId,
      _inserted_run: night1.runId,
    });
    expect(
      await one(`SELECT surname, _changed_run, _inserted_run FROM cases_st WHERE stkey = ?`, [changed1]),
    ).toMatchObject({ _changed_run: night2.runId, _inserted_run: night1.runId });
    expect(String((await one(`SELECT surname FROM students WHERE student_id = ?`, [changed1])).surname)).toMatch(
      /-SMITH$/,
    );
    expect(await count(`SELECT count(*) AS n FROM students WHERE NOT active`)).toBe(3);
    const ops = await probe.all(`SELECT op, count(*) AS n FROM etl_changes WHERE run_id = ? GROUP BY op ORDER BY op`, [
      night2.runId,
    ]);
    expect(ops.map((o) => [o.op, Number(o.n)])).toEqual([
      ['deactivate', 3],
      ['insert', 2],
      ['update', 2],
    ]);
    const change = await one<{ before: unknown; after: unknown }>(
      `SELECT before, after FROM etl_changes WHERE run_id = ? AND op = 'update' AND row_key = ?`,
      [night2.runId, changed1],
    );
    const before = typeof change.before === 'string' ? JSON.parse(change.before) : change.before;
    const after = typeof change.after === 'string' ? JSON.parse(change.after) : change.after;
    expect(after.surname).toBe(`${before.surname}-SMITH`);

    // Night 3: one leaver comes back exactly as they were.
    await editCsv(st(), (rows) => [...rows, original.rows.find((r) => r[key] === gone1) as string[]]);
    const night3 = await run();
    expect(night3.runs[0]?.tables.find((t) => t.table === 'ST')).toMatchObject({
      inserted: 0,
      updated: 0,
      deactivated: 0,
      reactivated: 1,
      unchanged: 199,
    });
    expect(await one(`SELECT _active, _deactivated_run, _changed_run FROM cases_st WHERE stkey = ?`, [gone1])).toEqual({
      _active: 1,
      _deactivated_run: null,
      _changed_run: night3.runId,
    });
    expect(await one(`SELECT _active, _deactivated_run FROM cases_st WHERE stkey = ?`, [gone2])).toEqual({
      _active: 0,
      _deactivated_run: night2.runId,
    });
  });

  it('applies a newer delta as upserts and never deactivates from it; ignores an older one', async () => {
    await run();
    const original = await readCsv(st());
    const key = original.header.indexOf('STKEY');
    const surname = original.header.indexOf('SURNAME');
    const changed = [...(original.rows[0] as string[])];
    changed[surname] = 'DELTA-CHANGED';
    const added = [...(original.rows[1] as string[])];
    added[key] = 'DELTA01';
    added[original.header.indexOf('REGISTRATION')] = '777777';
    await writeCsv(st('ST_8865_D.csv'), { header: original.header, rows: [changed, added] }, new Date());
    const delta = await run();
    expect(delta.status).toBe('succeeded');
    expect(
      delta.runs[0]?.tables
        .filter((t) => t.table === 'ST')
        .map((t) => [t.file, t.mode, t.inserted, t.updated, t.deactivated, t.unchanged]),
    ).toEqual([
      ['ST_8865.csv', 'full', 0, 0, 0, 200],
      ['ST_8865_D.csv', 'delta', 1, 1, 0, 0],
    ]);
    probe = await target.probe();
    expect(await count(`SELECT count(*) AS n FROM cases_st WHERE _active`)).toBe(201);
    expect((await one(`SELECT surname FROM cases_st WHERE stkey = ?`, [changed[key]])).surname).toBe('DELTA-CHANGED');

    // A delta older than its base is stale: ignored, reported, and the run is the full file alone.
    const old = new Date(Date.now() - 7_200_000);
    await utimes(st('ST_8865_D.csv'), old, old);
    const stale = await run({}, { force: true });
    expect(stale.notices.map((n) => n.code)).toContain('ETL_SOURCE_STALE_DELTA');
    expect(stale.runs[0]?.tables.some((t) => t.file === 'ST_8865_D.csv')).toBe(false);
  });

  it('fails the run on too many rejects, publishing nothing but recording the run, its files and rejects', async () => {
    await editCsv(st(), (rows, col) =>
      rows.map((r, i) => (i % 4 === 0 ? Object.assign([...r], { [col('BIRTHDATE')]: '31/02/2019 12:00:00 AM' }) : r)),
    );
    const failed = await run();
    expect(failed).toMatchObject({ status: 'failed', success: false });
    expect(failed.runs[0]?.guards.map((g) => g.code)).toContain('ETL_GUARD_ERROR_RATE');
    expect(failed.errors.join(' ')).toContain("of table ST's rows were rejected (50 of 200)");
    probe = await target.probe();
    const tables = await probe.all(
      dialect === 'sqlite'
        ? `SELECT name FROM sqlite_master WHERE name = 'cases_st'`
        : `SELECT table_name AS name FROM information_schema.tables WHERE table_name = 'cases_st' AND table_schema = current_schema()`,
    );
    if (tables.length > 0) expect(await count(`SELECT count(*) AS n FROM cases_st`)).toBe(0);
    expect(await count(`SELECT count(*) AS n FROM etl_changes`)).toBe(0);
    expect(await one(`SELECT status, error_code, rejected FROM etl_runs WHERE id = ?`, [failed.runId])).toEqual({
      status: 'failed',
      error_code: 'ETL_GUARD_ERROR_RATE',
      rejected: 50,
    });
    expect(await count(`SELECT count(*) AS n FROM etl_run_files WHERE run_id = ?`, [failed.runId])).toBe(16);
    const reject = await one(
      `SELECT file_name, line, row_key, field, code, original_line FROM etl_rejects WHERE run_id = ? ORDER BY line LIMIT 1`,
      [failed.runId],
    );
    expect(reject).toMatchObject({
      file_name: 'ST_8865.csv',
      line: 2,
      field: 'BIRTHDATE',
      code: 'ETL_TYPE_DATE_INVALID',
    });
    expect(String(reject.original_line)).toContain('31/02/2019');

    // Re-running the same night does not override the guard rails: that is its own, recorded flag.
    expect((await run({}, { force: true })).status).toBe('failed');
    const forced = await run({}, { overrideGuards: true });
    expect(forced).toMatchObject({ status: 'warning', success: true });
    expect(forced.runs[0]?.guards.every((g) => g.overridden)).toBe(true);
    expect(await count(`SELECT count(*) AS n FROM cases_st`)).toBe(150);
    const recorded = await one(`SELECT overrides, reason, held FROM etl_runs WHERE id = ?`, [forced.runId]);
    expect(String(recorded.reason)).toContain('published with overrides');
    expect(String(recorded.overrides)).toContain('override-guards');
    // The 50 rejected students were never published: held, so not inserted.
    expect(recorded.held).toBe(50);
  });

  it('trips the per-table error rate even when the run as a whole is under it', async () => {
    await editCsv(st('KCY_8865.csv'), (rows, col) =>
      rows.map((r, i) => (i === 0 ? Object.assign([...r], { [col('KCYKEY')]: '' }) : r)),
    );
    const result = await run();
    expect(result.status).toBe('failed');
    expect(result.runs[0]?.guards).toEqual([
      expect.objectContaining({ code: 'ETL_GUARD_ERROR_RATE', overridden: false }),
    ]);
    expect(result.errors[0]).toContain("of table KCY's rows were rejected (1 of 6)");
  });

  it('refuses a full file that shrank too much or is empty unless allowed, and records the override', async () => {
    await run();
    await editCsv(st(), (rows) => rows.slice(0, 80));
    const shrunk = await run();
    expect(shrunk.status).toBe('failed');
    expect(shrunk.errors[0]).toContain(
      'ST_8865.csv has 80 rows, down 60.0% from 200 in the last published load; the limit is 50.0%',
    );
    probe = await target.probe();
    expect(await count(`SELECT count(*) AS n FROM cases_st WHERE _active`)).toBe(200);

    const allowed = await run({}, { allowShrink: true });
    expect(allowed.status).toBe('succeeded');
    expect(allowed.runs[0]?.tables.find((t) => t.table === 'ST')?.deactivated).toBe(120);
    expect(String((await one(`SELECT overrides FROM etl_runs WHERE id = ?`, [allowed.runId])).overrides)).toContain(
      'allow-shrink',
    );

    await editCsv(st('SU_8865.csv'), () => []);
    const empty = await run();
    expect(empty.status).toBe('failed');
    expect(empty.runs[0]?.guards.map((g) => g.code)).toEqual(['ETL_GUARD_EMPTY']);
    expect(await count(`SELECT count(*) AS n FROM cases_su WHERE _active`)).toBe(82);
  });

  it('measures shrinkage against the last full load still published, not a refused or rolled-back one', async () => {
    await run();
    const full = await readCsv(st());
    const night = (rows: number): Promise<EtlResult> =>
      writeCsv(st(), { header: full.header, rows: full.rows.slice(0, rows) }).then(() => run());
    expect((await night(60)).status).toBe('failed');
    await editCsv(st(), (rows) => rows.slice(0, 80));
    const allowed = await run({}, { allowShrink: true });
    expect(allowed.status).toBe('succeeded');
    // 45 is within the limit of the 80 now published, though far below the refused 60's 200.
    const smaller = await night(45);
    expect(smaller.status).toBe('succeeded');

    // Undo back to the first night: its 200 is again the last published full load of ST.
    await rollbackRun(allowed.runId as number, { config: target.config({ CASES_DIRECTORY: src }), cascade: true });
    const again = await night(80);
    expect(again.status).toBe('failed');
    expect(again.errors[0]).toContain('ST_8865.csv has 80 rows, down 60.0% from 200 in the last published load');
  });

  it('refuses to publish without a required table unless the guard rails are overridden', async () => {
    await unlink(st('SF_8865.csv'));
    const result = await run();
    expect(result.status).toBe('failed');
    expect(result.errors).toEqual(['required table SF has no file']);
    probe = await target.probe();
    expect(await count(`SELECT count(*) AS n FROM etl_changes`)).toBe(0);
    expect((await run({}, { force: true })).status).toBe('failed');
    const forced = await run({}, { overrideGuards: true });
    expect(forced.status).toBe('succeeded');
    expect(await count(`SELECT count(*) AS n FROM cases_st`)).toBe(200);
  });

  it('reports a dry run without publishing it, and does not count it as loaded', async () => {
    const dry = await run({}, { dryRun: true });
    expect(dry.status).toBe('succeeded');
    expect(dry.runs[0]).toMatchObject({ dryRun: true, reason: 'dry run: nothing was published' });
    expect(dry.stats.inserted).toBe(dry.stats.rows);
    probe = await target.probe();
    expect(await count(`SELECT count(*) AS n FROM etl_changes`)).toBe(0);
    const real = await run();
    expect(real.status).toBe('succeeded');
    expect(real.stats.inserted).toBe(dry.stats.inserted);
  });

  it('archives published files with a manifest and prunes old archives, leaving the source alone', async () => {
    const archive = join(target.dir, 'archive');
    const old = join(archive, '8865', '20200101T020000Z-run1');
    await mkdir(old, { recursive: true });
    const result = await run({ CASES_ARCHIVE_DIRECTORY: archive, ETL_ARCHIVE_DAYS: '30' });
    const path = result.runs[0]?.archivePath as string;
    expect(path).toMatch(new RegExp(`${archive}/8865/\\d{8}T\\d{6}Z-run${result.runId}$`));
    const manifest = JSON.parse(await readFile(join(path, 'manifest.json'), 'utf8'));
    expect(manifest.files).toHaveLength(16);
    const stEntry = manifest.files.find((f: { name: string }) => f.name === 'ST_8865.csv');
    expect(stEntry).toEqual({
      name: 'ST_8865.csv',
      bytes: (await stat(st())).size,
      sha256: await sha256File(st()),
      archived: true,
    });
    expect(await sha256File(join(path, 'ST_8865.csv'))).toBe(stEntry.sha256);
    expect((await readdir(join(archive, '8865'))).includes('20200101T020000Z-run1')).toBe(false);
    expect((await readdir(src)).length).toBe(16);
    probe = await target.probe();
    expect((await one(`SELECT archive_path FROM etl_runs WHERE id = ?`, [result.runId])).archive_path).toBe(path);
    await rm(archive, { recursive: true, force: true });
  });

  /** Every byte under `dir`, for looking for content that must not be there. */
  const everything = async (dir: string): Promise<string> => {
    const names = await readdir(dir, { recursive: true, withFileTypes: true });
    const files = names.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
    return (await Promise.all(files.map((f) => readFile(f, 'latin1')))).join('\n');
  };
  const SECRET = 'root:$6$archive-must-never-hold-this:19000:0:99999:7:::';

  it('archives only the bytes that were loaded: a file swapped after loading is left out, and the run says so', async () => {
    const archive = join(target.dir, 'archive');
    const secret = join(target.dir, 'shadow');
    await writeFile(secret, `${SECRET}\n`);
    const loaded = { st: await sha256File(st()), sf: await sha256File(st('SF_8865.csv')) };
    // After the last file is loaded and before the archive copies: ST becomes a symlink to the
    // secret, SF is rewritten in place, KGC removed. Synchronous, so all is done before the run goes on.
    const swap = (e: ProgressEvent): void => {
      if (e.kind !== 'file-done' || e.index !== e.total - 1) return;
      unlinkSync(st());
      symlinkSync(secret, st());
      writeFileSync(st('SF_8865.csv'), `${SECRET}\r\n`);
      unlinkSync(st('KGC_8865.csv'));
    };
    const result = await run({ CASES_ARCHIVE_DIRECTORY: archive }, { onProgress: swap });
    expect(result.status).toBe('succeeded');
    const school = result.runs[0] as SchoolRunResult;
    expect([...school.errors].sort()).toEqual([
      'archive: KGC_8865.csv removed since it was read; not archived',
      'archive: SF_8865.csv changed since it was read; not archived',
      'archive: ST_8865.csv changed since it was read; not archived',
    ]);
    // `cases-etl run` prints them under the school's table.
    expect(renderRun(result)).toContain('\n  archive: ST_8865.csv changed since it was read; not archived');
    const path = school.archivePath as string;
    const files = await readdir(path);
    expect(files).toHaveLength(14);
    expect(files).not.toContain('ST_8865.csv');
    expect(files).not.toContain('SF_8865.csv');
    const manifest = JSON.parse(await readFile(join(path, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.files).toHaveLength(16);
    const entry = (name: string): ManifestEntry | undefined => manifest.files.find((f) => f.name === name);
    expect(entry('ST_8865.csv')).toMatchObject({
      sha256: loaded.st,
      archived: false,
      reason: 'changed since it was read',
    });
    expect(entry('SF_8865.csv')).toMatchObject({
      sha256: loaded.sf,
      archived: false,
      reason: 'changed since it was read',
    });
    expect(entry('KGC_8865.csv')).toMatchObject({ archived: false, reason: 'removed since it was read' });
    expect(entry('DF_8865.csv')).toMatchObject({ archived: true });
    expect(await everything(archive)).not.toContain('archive-must-never-hold-this');
    // The night was loaded from the bytes read, and is published.
    probe = await target.probe();
    expect(await one(`SELECT status, archive_path FROM etl_runs WHERE id = ?`, [result.runId])).toEqual({
      status: 'succeeded',
      archive_path: path,
    });
    expect(await count(`SELECT count(*) AS n FROM students WHERE active`)).toBe(200);
  });

  it('fails the night on a symlink found at discovery, as an unreadable file, and archives nothing', async () => {
    const archive = join(target.dir, 'archive');
    const secret = join(target.dir, 'shadow');
    await writeFile(secret, `${SECRET}\n`);
    await unlink(st());
    await symlink(secret, st());
    const result = await run({ CASES_ARCHIVE_DIRECTORY: archive });
    expect(result.status).toBe('failed');
    const school = result.runs[0] as SchoolRunResult;
    expect(school.tables.find((t) => t.file === 'ST_8865.csv')?.error).toMatch(
      /^ETL_SOURCE_UNREADABLE: cannot read .*ST_8865\.csv: ELOOP \(open\)$/,
    );
    expect(school.archivePath).toBeNull();
    await expect(readdir(archive)).rejects.toMatchObject({ code: 'ENOENT' });
    probe = await target.probe();
    expect(await count(`SELECT count(*) AS n FROM etl_runs WHERE status <> 'failed'`)).toBe(0);
    expect(JSON.stringify(result)).not.toContain('archive-must-never-hold-this');
  });

  it('adds a column a new CASES release brings, and loads each school of a shared folder on its own', async () => {
    const csv = await readCsv(st());
    await writeCsv(st(), {
      header: [...csv.header, 'NEW_RELEASE_COLUMN'],
      rows: csv.rows.map((r, i) => [...r, `extra${i}`]),
    });
    const copyTo = async (name: string): Promise<void> => {
      const { copyFile } = await import('node:fs/promises');
      await copyFile(st(name.replace('1234', '8865')), st(name));
    };
    for (const t of ['ST', 'SF']) await copyTo(`${t}_1234.csv`);
    const result = await run();
    expect(result.runs.map((r) => [r.school, r.status])).toEqual([
      ['1234', 'succeeded'],
      ['8865', 'succeeded'],
    ]);
    probe = await target.probe();
    expect(
      await count(`SELECT count(*) AS n FROM cases_st WHERE new_release_column IS NOT NULL AND school_id = '8865'`),
    ).toBe(200);
    expect(await count(`SELECT count(*) AS n FROM cases_st WHERE school_id = '1234'`)).toBe(200);
    expect(await count(`SELECT count(*) AS n FROM cases_sf`)).toBe(40);
  });
});
