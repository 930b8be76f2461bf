import { join } from 'node:path';

import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';

import { BUILTIN_VIEWS } from '../src/layouts/index.js';
import { runEtl, type EtlResult } from '../src/pipeline/index.js';
import { BUILTIN_VIEW_NAMES } from '../src/schema/index.js';
import { editCsv, readCsv, writeCsv, type Csv } from './helpers/nights.js';
import { DIALECTS, useExportFolder } from './helpers/targets.js';

/**
 * The friendly views as a new user meets them: the shipped sample queried with unquoted
 * snake_case names on both databases, dates compared with date literals, Y/N flags as booleans,
 * codes with their lookup's label, current_students, student_contacts, and what each column
 * means (comments on PostgreSQL, cases_etl_columns on both). Expected values come from the
 * sample's own CSV files.
 */

/** `21/06/2024 12:00:00 AM` → `2024-06-21`. */
function isoDate(eduhub: string): string {
  const [d = '', m = '', y = ''] = eduhub.split(' ')[0]?.split('/') ?? [];
  return `${y}-${m.padStart(2, '0')}-${d.padStart(2, '0')}`;
}

/** A CSV's rows as objects by column name. */
function records(csv: Csv): Array<Record<string, string>> {
  return csv.rows.map((r) => Object.fromEntries(csv.header.map((h, i) => [h, r[i] ?? ''])));
}

const countWhere = <T>(items: readonly T[], test: (item: T) => boolean): number => items.filter(test).length;

describe.each(DIALECTS)('the friendly views on %s', (dialect) => {
  const folder = useExportFolder(dialect);
  const run = (extra: Record<string, string> = {}): Promise<EtlResult> =>
    runEtl({ config: folder.target.config({ CASES_DIRECTORY: folder.src, ...extra }), notifier: null });
  const csv = async (name: string): Promise<Array<Record<string, string>>> =>
    records(await readCsv(join(folder.src, name)));
  const count = async (sql: string, params: unknown[] = []): Promise<number> =>
    Number((await folder.query(sql, params))[0]?.n);
  /** Each view's columns, from the column catalogue. */
  const viewColumns = async (): Promise<Map<string, string[]>> => {
    const rows = await folder.query(
      `SELECT table_name, column_name FROM cases_etl_columns WHERE table_name NOT LIKE 'cases%' ORDER BY table_name`,
    );
    const out = new Map<string, string[]>();
    for (const r of rows)
      out.set(String(r.table_name), [...(out.get(String(r.table_name)) ?? []), String(r.column_name)]);
    return out;
  };

  it('reads the sample with unquoted snake_case names, dates as dates and Y/N flags as booleans', async () => {
    expect((await run()).status).toBe('succeeded');
    const [student] = await csv('ST_8865.csv');
    expect(
      await folder.query(
        `SELECT student_id, given_names, year_level, date_of_birth FROM students WHERE student_id = ?`,
        [student?.STKEY],
      ),
    ).toEqual([
      {
        student_id: student?.STKEY,
        given_names: student?.FIRST_NAME,
        year_level: student?.SCHOOL_YEAR,
        date_of_birth: isoDate(student?.BIRTHDATE ?? ''),
      },
    ]);

    const absences = await csv('SXAB_8865.csv');
    const day = isoDate(absences[0]?.ABSENCE_DATE ?? '');
    const onDay = countWhere(absences, (a) => isoDate(a.ABSENCE_DATE ?? '') === day);
    expect(onDay).toBeGreaterThan(0);
    expect(await count(`SELECT count(*) AS n FROM absences WHERE absence_date = '${day}'`)).toBe(onDay);
    const june = countWhere(absences, (a) => isoDate(a.ABSENCE_DATE ?? '').startsWith('2024-06'));
    expect(
      await count(`SELECT count(*) AS n FROM absences WHERE absence_date BETWEEN '2024-06-01' AND '2024-06-30'`),
    ).toBe(june);
    const approved = countWhere(absences, (a) => a.AM_APPROVED === 'Y');
    expect(approved).toBeGreaterThan(0);
    expect(await count(`SELECT count(*) AS n FROM absences WHERE am_approved`)).toBe(approved);
    expect(await count(`SELECT count(*) AS n FROM absences WHERE NOT am_approved`)).toBe(
      countWhere(absences, (a) => a.AM_APPROVED === 'N'),
    );

    // The catalogue gives the same types on both databases for what the views made of the codes.
    const types = await folder.query(
      `SELECT column_name, type FROM cases_etl_columns WHERE table_name = 'absences' AND column_name IN ('absence_date', 'am_approved', 'comment') ORDER BY column_name`,
    );
    expect(types).toEqual([
      { column_name: 'absence_date', type: 'date' },
      { column_name: 'am_approved', type: 'boolean' },
      { column_name: 'comment', type: 'text' },
    ]);

    // Every column of every view reads unquoted, and every name is lower-case snake_case.
    const views = await viewColumns();
    expect([...views.keys()].sort()).toEqual([...BUILTIN_VIEW_NAMES, 'current_students', 'student_contacts'].sort());
    for (const [view, columns] of views) {
      for (const c of columns) expect(c, `${view}.${c}`).toMatch(/^[a-z][a-z0-9_]*$/);
      await expect(folder.query(`SELECT ${columns.join(', ')} FROM ${view} LIMIT 1`)).resolves.toBeDefined();
    }
  });

  it('labels a code from its lookup table, keeps the rows whose code has no active lookup row, and adds a label once its table is exported', async () => {
    const sxab = join(folder.src, 'SXAB_8865.csv');
    let unknownId = '';
    await editCsv(sxab, (rows, col) => {
      unknownId = rows[0]?.[col('SXAB_ID')] ?? '';
      rows[0]![col('AM_ACT_TYPE')] = '999';
      return rows;
    });
    const absences = await csv('SXAB_8865.csv');
    const kct = await csv('KCT_8865.csv');
    const labels = new Map(kct.map((k) => [k.KCTKEY, k.DESCRIPTION]));
    // A code the absences use leaves the absence types on the second night: its row goes inactive.
    const gone = absences.map((a) => a.PM_ACT_TYPE).find((c) => c !== '' && labels.has(c)) ?? '';
    expect((await run()).status).toBe('succeeded');
    expect(await count(`SELECT count(*) AS n FROM absences`)).toBe(absences.length);
    expect(
      await folder.query(`SELECT am_absence_type, am_absence_type_label FROM absences WHERE absence_id = ?`, [
        Number(unknownId),
      ]),
    ).toEqual([{ am_absence_type: 999, am_absence_type_label: null }]);
    const pm = await folder.query(
      `SELECT pm_absence_type AS code, pm_absence_type_label AS label FROM absences WHERE pm_absence_type = ?`,
      [Number(gone)],
    );
    expect(pm.map((r) => r.label)).toEqual(pm.map(() => labels.get(gone)));
    // No KGL (languages) file yet: no label column for the home language.
    expect((await viewColumns()).get('students')).not.toContain('home_language_label');

    await editCsv(join(folder.src, 'KCT_8865.csv'), (rows, col) => rows.filter((r) => r[col('KCTKEY')] !== gone));
    const languages = [...new Set((await csv('ST_8865.csv')).map((s) => s.HOME_LANG ?? ''))].filter((l) => l !== '');
    await writeCsv(join(folder.src, 'KGL_8865.csv'), {
      header: ['KGLKEY', 'DESCRIPTION'],
      rows: languages.map((l) => [l, `Language ${l}`]),
    });
    expect((await run()).status).toBe('succeeded');
    expect(await count(`SELECT count(*) AS n FROM absences`)).toBe(absences.length);
    const after = await folder.query(`SELECT pm_absence_type_label AS label FROM absences WHERE pm_absence_type = ?`, [
      Number(gone),
    ]);
    expect(after).toHaveLength(pm.length);
    expect(after.every((r) => r.label === null)).toBe(true);
    const spoken = await folder.query(
      `SELECT DISTINCT home_language, home_language_label FROM students WHERE home_language IS NOT NULL`,
    );
    expect(spoken.length).toBe(languages.length);
    for (const r of spoken) expect(r.home_language_label).toBe(`Language ${String(r.home_language)}`);
  });

  it('current_students holds the active and leaving students still in the export, not the left or future ones', async () => {
    const students = await csv('ST_8865.csv');
    const current = (list: typeof students): Record<string, number> => ({
      ACTV: countWhere(list, (s) => s.STATUS === 'ACTV'),
      LVNG: countWhere(list, (s) => s.STATUS === 'LVNG'),
    });
    expect(countWhere(students, (s) => s.STATUS === 'LEFT')).toBeGreaterThan(0);
    expect((await run()).status).toBe('succeeded');
    const byStatus = async (): Promise<Record<string, number>> =>
      Object.fromEntries(
        (await folder.query(`SELECT status, count(*) AS n FROM current_students GROUP BY status`)).map((r) => [
          r.status,
          Number(r.n),
        ]),
      );
    expect(await byStatus()).toEqual(current(students));

    // A current student who leaves the export is no longer current; the students view keeps the row, inactive.
    const leaver = students.find((s) => s.STATUS === 'ACTV')?.STKEY;
    await editCsv(join(folder.src, 'ST_8865.csv'), (rows, col) => rows.filter((r) => r[col('STKEY')] !== leaver));
    expect((await run()).status).toBe('succeeded');
    expect(await byStatus()).toEqual(current(students.filter((s) => s.STKEY !== leaver)));
    expect(await folder.query(`SELECT active FROM students WHERE student_id = ?`, [leaver])).toEqual([{ active: 0 }]);
  });

  it("student_contacts gives a student's families with both parents, and null parents for a family not in the export", async () => {
    const students = await csv('ST_8865.csv');
    const families = new Map((await csv('DF_8865.csv')).map((f) => [f.DFKEY, f]));
    const student = students.find((s) => s.FAMB !== '' && s.FAMB !== s.FAMILY);
    const prime = families.get(student?.FAMILY ?? '');
    expect(prime).toBeDefined();
    expect((await run()).status).toBe('succeeded');
    const contacts = (): Promise<Array<Record<string, unknown>>> =>
      folder.query(
        `SELECT family_role, family_id, parent_a_given_name, parent_a_surname, parent_a_email, parent_a_mobile, parent_b_given_name, academic_reports
         FROM student_contacts WHERE student_id = ? ORDER BY family_role DESC`,
        [student?.STKEY],
      );
    const parents = (f: Record<string, string> | undefined): Record<string, unknown> => ({
      parent_a_given_name: f?.NAME_A || null,
      parent_a_surname: f?.SURNAME_A || null,
      parent_a_email: f?.E_MAIL_A || null,
      parent_a_mobile: f?.MOBILE_A || null,
      parent_b_given_name: f?.NAME_B || null,
    });
    const yes = (flag: string | undefined): number | null => (flag === 'Y' ? 1 : flag === 'N' ? 0 : null);
    expect(await contacts()).toEqual([
      {
        family_role: 'prime',
        family_id: student?.FAMILY,
        ...parents(prime),
        academic_reports: yes(student?.ACADEMIC_A),
      },
      {
        family_role: 'alternative',
        family_id: student?.FAMB,
        ...parents(families.get(student?.FAMB ?? '')),
        academic_reports: yes(student?.ACADEMIC_B),
      },
    ]);

    // The alternative family leaves the export: the student's link stays, with no parents to show.
    await editCsv(join(folder.src, 'DF_8865.csv'), (rows, col) =>
      rows.filter((r) => r[col('DFKEY')] !== student?.FAMB),
    );
    expect((await run()).status).toBe('succeeded');
    expect((await contacts())[1]).toMatchObject({ family_role: 'alternative', ...parents(undefined) });
  });

  it('says what every column means: comments on PostgreSQL, cases_etl_columns on both', async () => {
    expect((await run()).status).toBe('succeeded');
    const described = await folder.query(
      `SELECT table_name, column_name, description FROM cases_etl_columns
       WHERE (table_name = 'students' AND column_name = 'date_of_birth') OR (table_name = 'cases_st' AND column_name IN ('surname', '_active'))
       ORDER BY table_name, column_name`,
    );
    expect(described).toEqual([
      {
        table_name: 'cases_st',
        column_name: '_active',
        description: expect.stringMatching(/^False once the row has gone/),
      },
      { table_name: 'cases_st', column_name: 'surname', description: 'Surname' },
      { table_name: 'students', column_name: 'date_of_birth', description: 'Date of birth (ST.BIRTHDATE)' },
    ]);
    if (dialect !== 'postgres') return;
    const comment = async (relation: string, column: string): Promise<unknown> =>
      (
        await folder.query(
          `SELECT col_description(a.attrelid, a.attnum) AS d FROM pg_attribute a WHERE a.attrelid = to_regclass(?) AND a.attname = ?`,
          [relation, column],
        )
      )[0]?.d;
    expect(await comment('students', 'home_group_label')).toMatch(
      /^What home_group means: Home Groups \(KGC\.DESCRIPTION\)/,
    );
    expect(await comment('cases_sxab', 'am_approved')).toBe('Has an absence in the morning been approved? (Y/N)');
    const tables = await folder.query(
      `SELECT obj_description(to_regclass('cases_st'), 'pg_class') AS mirror, obj_description(to_regclass('current_students'), 'pg_class') AS view`,
    );
    expect(tables[0]?.mirror).toMatch(/^Students \(CASES21 table ST\)/);
    expect(tables[0]?.view).toMatch(/^Current students: /);
  });

  it('gives the seed names with ETL_VIEW_NAMING=camel, and snake_case again on the next run, skipped or not, with no DDL when nothing changed', async () => {
    expect((await run({ ETL_VIEW_NAMING: 'camel' })).status).toBe('succeeded');
    const camel = (await viewColumns()).get('students') ?? [];
    const seed = ['schoolId', ...Object.keys(BUILTIN_VIEWS.students?.fields ?? {}), 'active'];
    expect(camel.filter((c) => !c.endsWith('Label'))).toEqual(seed);
    expect(camel).toContain('homeGroupLabel');
    const students = await csv('ST_8865.csv');
    expect(await count(`SELECT count(*) AS n FROM students WHERE "yearLevel" = '07' AND dob IS NOT NULL`)).toBe(
      countWhere(students, (s) => s.SCHOOL_YEAR === '07' && s.BIRTHDATE !== ''),
    );

    const again = await run();
    expect(again.status).toBe('skipped');
    expect((await viewColumns()).get('students')).toEqual(
      expect.arrayContaining(['school_id', 'student_id', 'date_of_birth']),
    );

    const ddl = async (): Promise<unknown> =>
      dialect === 'sqlite'
        ? folder.query(`PRAGMA schema_version`)
        : folder.query(
            `SELECT relname, oid::text AS oid FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relkind = 'v' ORDER BY relname`,
          );
    const before = await ddl();
    expect((await run()).status).toBe('skipped');
    expect(
      (await runEtl({ config: folder.target.config({ CASES_DIRECTORY: folder.src }), force: true, notifier: null }))
        .status,
    ).toBe('succeeded');
    expect(await ddl()).toEqual(before);
  });
  /** A statement of the school's own (the probe reads only; SQLite's is read-only). */
  const ddl = async (sql: string): Promise<void> => {
    if (dialect === 'postgres') return void (await folder.query(sql));
    const db = new BetterSqlite3(String(folder.target.env.DATABASE_URL).replace(/^sqlite:/, ''));
    try {
      db.exec(sql);
    } finally {
      db.close();
    }
  };

  it("keeps a view the school's own views depend on when it cannot be replaced in place, says so, and still publishes the night", async () => {
    expect((await run()).status).toBe('succeeded');
    await ddl("CREATE VIEW my_year7 AS SELECT student_id, given_names FROM students WHERE year_level = '07'");
    const year7 = await count('SELECT count(*) AS n FROM my_year7');
    expect(year7).toBeGreaterThan(0);

    // Camel names rename every column of students: PostgreSQL cannot replace it in place, nor
    // drop it while my_year7 reads it. SQLite drops it (my_year7 then names columns that are gone).
    const renamed = await runEtl({
      config: folder.target.config({ CASES_DIRECTORY: folder.src, ETL_VIEW_NAMING: 'camel' }),
      force: true,
      notifier: null,
    });
    if (dialect === 'sqlite') {
      expect(renamed.status).toBe('succeeded');
      return;
    }
    expect(renamed.status).toBe('warning');
    expect(renamed.runs[0]?.reason).toContain(
      'ETL_VIEW_KEPT: view students kept its earlier definition, since my_year7 depends on it',
    );
    const [ledger] = await folder.query('SELECT status, error_code FROM etl_runs WHERE id = ?', [renamed.runId]);
    expect(ledger).toEqual({ status: 'warning', error_code: 'ETL_VIEW_KEPT' });
    // The views that could be replaced were (camel names), students kept its own, and the school's view still reads.
    expect((await viewColumns()).get('students')).toContain('student_id');
    expect((await viewColumns()).get('current_students')).toContain('studentId');
    expect(await count('SELECT count(*) AS n FROM my_year7')).toBe(year7);

    // Dropped, the next run replaces it.
    await ddl('DROP VIEW my_year7');
    const after = await runEtl({
      config: folder.target.config({ CASES_DIRECTORY: folder.src, ETL_VIEW_NAMING: 'camel' }),
      notifier: null,
    });
    expect(after.status).toBe('skipped');
    expect(after.runs[0]?.reason).not.toContain('ETL_VIEW_KEPT');
    expect((await viewColumns()).get('students')).toContain('studentId');
  });
});
