import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runEtl } from '../src/pipeline/index.js';
import { copySample, editCsv } from './helpers/nights.js';
import { createTarget, DIALECTS, type Probe, type Target } from './helpers/targets.js';

/**
 * The README's "Querying the data" examples, exactly as printed there, against the shipped sample
 * on both databases after two nights: in the second, WIL0002 moves home group and is absent today.
 * A README query that stops working (a view renamed, a column gone) fails here.
 */

const README = fileURLToPath(new URL('../README.md', import.meta.url));

/** The SQL statements of the README's "Querying the data" section, in order. */
async function readmeQueries(): Promise<string[]> {
  const text = await readFile(README, 'utf8');
  const section = text.slice(
    text.indexOf('## Querying the data'),
    text.indexOf('\n## ', text.indexOf('## Querying the data') + 1),
  );
  const sql = [...section.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1] as string).join('\n');
  return sql
    .split(/;\s*\n/)
    .map((s) => s.replace(/^--.*$/gm, '').trim())
    .filter((s) => s.length > 0);
}

describe.each(DIALECTS)("the README's queries on %s", (dialect) => {
  let target: Target;
  let probe: Probe;
  let today: string;
  let answers: Array<Array<Record<string, unknown>>>;

  beforeAll(async () => {
    target = await createTarget(dialect);
    const src = join(target.dir, 'export');
    await copySample(src);
    expect((await runEtl({ config: target.config({ CASES_DIRECTORY: src }) })).status).toBe('succeeded');
    probe = await target.probe();
    // The database's own today (CURRENT_DATE), as CASES writes a date.
    today = String((await probe.all('SELECT CURRENT_DATE AS d'))[0]?.d).slice(0, 10);
    const [y, m, d] = today.split('-');
    await editCsv(join(src, 'ST_8865.csv'), (rows, col) =>
      rows.map((r) => (r[col('STKEY')] === 'WIL0002' ? Object.assign([...r], { [col('HOME_GROUP')]: '11B' }) : r)),
    );
    await editCsv(join(src, 'SXAB_8865.csv'), (rows, col) =>
      rows.map((r, i) =>
        i === 0 ? Object.assign([...r], { [col('ABSENCE_DATE')]: `${Number(d)}/${m}/${y} 12:00:00 AM` }) : r,
      ),
    );
    expect((await runEtl({ config: target.config({ CASES_DIRECTORY: src }) })).status).toBe('succeeded');
    const queries = await readmeQueries();
    expect(queries).toHaveLength(5);
    answers = [];
    for (const q of queries) answers.push(await probe.all(q));
  });
  afterAll(async () => {
    await probe?.close();
    await target?.cleanup();
  });

  it('counts current students by home group, with the home group labels', async () => {
    const [byGroup] = answers;
    const total = Number((await probe.all('SELECT count(*) AS n FROM current_students'))[0]?.n);
    expect(byGroup?.reduce((n, r) => n + Number(r.students), 0)).toBe(total);
    expect(byGroup?.find((r) => r.home_group === '11B')?.home_group_label).toEqual(expect.any(String));
  });

  it("lists today's absences with their labels", () => {
    const absent = answers[1]?.find((r) => r.student_id === 'WIL0002');
    expect(absent).toMatchObject({ am_absence_type_label: 'Parent choice', am_approved: 0 });
  });

  it("gives a student's parents", () => {
    expect(answers[2]?.length).toBeGreaterThan(0);
    expect(answers[2]?.[0]).toMatchObject({ family_role: 'prime', parent_a_given_name: expect.any(String) });
  });

  it('finds who changed home group, and their home group now', () => {
    expect(answers[3]).toEqual([expect.objectContaining({ student_id: 'WIL0002', home_group: '11B' })]);
  });

  it('shows rows per table over both nights', () => {
    const st = answers[4]?.filter((r) => r.table_name === 'ST') ?? [];
    expect(st).toHaveLength(2);
    expect(st.every((r) => Number(r.rows_loaded) > 0)).toBe(true);
    expect(today).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });
});
