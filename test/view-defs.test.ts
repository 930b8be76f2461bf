import { describe, expect, it } from 'vitest';

import {
  BUILTIN_VIEWS,
  createLayoutRegistry,
  loadBuiltinLayouts,
  loadLayouts,
  snakeCase,
  type ColumnLayout,
} from '../src/layouts/index.js';
import { carriesTime, castOf, isYesNo, viewOver, viewsFor, type ViewDef } from '../src/schema/index.js';
import { fixture } from './helpers/fixtures.js';

/**
 * The view definitions as data, without a database: names under each ETL_VIEW_NAMING, what the
 * schema's facts make of a column (date, timestamp, boolean, text), labels, and a user's
 * field_mapping kept as written.
 */

const layouts = loadBuiltinLayouts();
const column = (ref: string): ColumnLayout => {
  const [table = '', name = ''] = ref.split('.');
  const col = layouts.get(table)?.columns.find((c) => c.name === name);
  if (!col) throw new Error(`no column ${ref}`);
  return col;
};
const fieldsOf = (view: ViewDef | null | undefined): string[] => view?.selects[0]?.fields.map((f) => f.field) ?? [];
const byName = (views: readonly ViewDef[], name: string): ViewDef | undefined => views.find((v) => v.name === name);

describe('what a column is in the views', () => {
  it('reads a CASES datetime as a date unless its name or description speaks of a time', () => {
    for (const ref of ['ST.BIRTHDATE', 'ST.ENTRY', 'SXAB.ABSENCE_DATE', 'STMA.CREATED', 'SF.START'])
      expect(castOf(column(ref)), ref).toBe('date');
    for (const ref of [
      'ST.LW_DATE',
      'ST.PIC_LW_DATE',
      'ST.DISABILITY_ADJUSTMENT_LW_DATE',
      'SF.HRMS_DATETIME',
      'SCI.SCHEMA_VERIFIED',
    ])
      expect([castOf(column(ref)), carriesTime(column(ref))], ref).toEqual(['none', true]);
  });

  it('reads a one-letter Y/N flag as a boolean, and leaves three-valued and other codes as text', () => {
    for (const ref of ['ST.PROOF_DOB', 'ST.IMMUNISE_PERMISSION', 'SXAB.AM_APPROVED', 'KGC.ACTIVE', 'ST.ACADEMIC_A'])
      expect([isYesNo(column(ref)), castOf(column(ref))], ref).toEqual([true, 'boolean']);
    for (const ref of [
      'ST.GENDER',
      'ST.PUBLISH_PHOTO_MEDIA',
      'ST.REGISTRAR_FLAG',
      'ST.HEAD_LICE_CHECK',
      'KGT.OBSOLETE',
      'DF.INTERPRETER_A',
    ])
      expect([isYesNo(column(ref)), castOf(column(ref))], ref).toEqual([false, 'none']);
    const oneLetter = [...layouts.values()].flatMap((l) => l.columns.filter((c) => c.type === 'flag'));
    const flags = oneLetter.filter(isYesNo);
    // About three in ten of the 988 one-letter columns say they are Y/N.
    expect(oneLetter).toHaveLength(988);
    expect(flags.length).toBeGreaterThan(250);
    expect(flags.length).toBeLessThan(320);
  });
});

describe('view names', () => {
  const registry = createLayoutRegistry(null);

  it('keeps the seed names exactly under camel, and derives snake_case from them', () => {
    const camel = viewsFor(registry, [], 'camel');
    const snake = viewsFor(registry, [], 'snake');
    for (const [name, def] of Object.entries(BUILTIN_VIEWS)) {
      const own = fieldsOf(byName(camel, name)).filter((f) => !f.endsWith('Label'));
      expect(own, name).toEqual(['schoolId', ...Object.keys(def.fields), 'active']);
      const names = fieldsOf(byName(snake, name));
      for (const f of names) expect(f, `${name}.${f}`).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(new Set(names).size, name).toBe(names.length);
    }
    expect(fieldsOf(byName(snake, 'students'))).toEqual(
      expect.arrayContaining(['school_id', 'student_id', 'given_names', 'home_group', 'year_level', 'date_of_birth']),
    );
    expect(fieldsOf(byName(snake, 'absences'))).toEqual(
      expect.arrayContaining(['absence_date', 'am_absence_type', 'am_absence_type_label', 'am_approved']),
    );
    expect(snakeCase('parentAGivenName')).toBe('parent_a_given_name');
  });

  it("puts each code's label right after it, from the table its column references", () => {
    const students = byName(viewsFor(registry), 'students');
    const fields = fieldsOf(students);
    expect(fields.slice(fields.indexOf('home_group'), fields.indexOf('home_group') + 2)).toEqual([
      'home_group',
      'home_group_label',
    ]);
    const joins = students?.selects[0]?.joins ?? [];
    expect(joins.map((j) => [j.column, j.table, j.key])).toEqual(
      expect.arrayContaining([
        ['home_group', 'KGC', 'kgckey'],
        ['house', 'KGH', 'kghkey'],
        ['school_year', 'KCY', 'kcykey'],
        ['birth_country', 'KGT', 'country'],
        ['home_lang', 'KGL', 'kglkey'],
      ]),
    );
    // CAMPUS references SCI, which has no DESCRIPTION; FAMILY references DF, which has none either.
    expect(fields).not.toContain('campus_label');
    expect(fields).not.toContain('family_id_label');
    // A label whose lookup table does not exist is left out, and the view is still made.
    const without = viewOver(students!, (m) =>
      m === 'cases_st' ? new Set(['school_id', 'stkey', 'house', '_active']) : undefined,
    );
    expect(fieldsOf(without)).toEqual(['school_id', 'student_id', 'house', 'active']);
  });

  it("keeps a user's field_mapping exactly as written, without labels, and names only the builder's fields by the setting", async () => {
    const user = await loadLayouts(fixture('fixed', 'relationships.json'));
    const dat = [...user.tables.values()].filter((l) => l.fieldMapping !== null);
    for (const naming of ['snake', 'camel'] as const) {
      const view = byName(viewsFor(user, dat, naming), 'student');
      const school = naming === 'snake' ? 'school_id' : 'schoolId';
      expect(fieldsOf(view)).toEqual([school, 'studentId', 'surname', 'givenNames', 'dob', 'status', 'active']);
    }
    // It replaces the built-in view of its table (DF: families), but not the views of other tables.
    const names = viewsFor(user, dat).map((v) => v.name);
    expect(names).not.toContain('families');
    expect(names).toEqual(expect.arrayContaining(['students', 'current_students', 'student_contacts']));
  });
});
