import {
  BUILTIN_VIEWS,
  builtinFieldName,
  CURRENT_STUDENTS,
  STUDENT_CONTACTS,
  type LayoutRegistry,
  type ViewNaming,
} from '../layouts/index.js';
import { mirrorColumnName, mirrorTableName } from './mirror.js';
import { BASE, columnField, mappedFields, textField } from './view-fields.js';
import type { ViewDef, ViewField, ViewSelect } from './view-types.js';

/**
 * The two views that answer what people ask first, each over the mirror tables themselves (not
 * over another view, so dropping and making one again never breaks the other):
 * `current_students` and `student_contacts`.
 */

/** The students view's fields and labels over the ST rows that are active and current. */
function currentStudents(registry: LayoutRegistry, naming: ViewNaming, school: ViewField): ViewDef {
  const { table, statuses, name } = CURRENT_STUDENTS;
  const mapping = Object.entries(BUILTIN_VIEWS.students?.fields ?? {}).map(
    ([camel, cases]) => [builtinFieldName(camel, naming), cases] as const,
  );
  const { fields, joins } = mappedFields(registry, registry.layoutFor(table), table, mapping, { naming, labels: true });
  return {
    name,
    table,
    description:
      `Current students: the students (CASES21 ST) still in the export whose STATUS is ${statuses.join(' or ')} ` +
      '(active or leaving; future and left students are not current). Every column of students but active.',
    selects: [
      {
        table,
        mirror: mirrorTableName(table),
        joins,
        where: [{ kind: 'active' }, { kind: 'in', column: mirrorColumnName('STATUS'), values: statuses }],
        fields: [school, ...fields],
      },
    ],
  };
}

/** The DF join of `student_contacts`: a family row only when it is still in the export. */
const FAMILY = 'f';

/**
 * The family join is kept only when DFKEY is the families' whole key (a layout keyed otherwise
 * could match a student's family more than once, repeating the student's row).
 */
function familyKeyed(registry: LayoutRegistry): boolean {
  const key = registry.layoutFor(STUDENT_CONTACTS.families)?.primaryKey;
  return key?.length === 1 && key[0] === 'DFKEY';
}

/** One select of `student_contacts`: the students' rows for one of their three family links. */
function contactSelect(
  registry: LayoutRegistry,
  naming: ViewNaming,
  school: ViewField,
  link: (typeof STUDENT_CONTACTS.links)[number],
): ViewSelect {
  const { table, families } = STUDENT_CONTACTS;
  const st = registry.layoutFor(table);
  const df = registry.layoutFor(families);
  const name = (camel: string): string => builtinFieldName(camel, naming);
  const student = Object.entries(STUDENT_CONTACTS.student).map(([camel, cases]) =>
    columnField(st, table, cases, name(camel)),
  );
  const linked = (camel: string, cases: string, description: string): ViewField => ({
    ...columnField(st, table, cases.replace('x', link.letter), name(camel)),
    description,
  });
  // Parent A's columns, then B's: each parent's name, email and mobile, then their relationship.
  const parent = (letter: 'A' | 'B'): ViewField[] =>
    Object.entries(STUDENT_CONTACTS.family)
      .filter(([camel]) => camel.startsWith(`parent${letter}`))
      .map(([camel, cases]) => columnField(df, families, cases, name(camel), FAMILY));
  const fields = [
    school,
    ...student,
    textField(
      name('familyRole'),
      link.role,
      "Which of the student's families: prime (ST.FAMILY), alternative (ST.FAMB) or additional (ST.FAMC)",
    ),
    linked('familyId', link.family, 'Family ID (DF.DFKEY) of that family'),
    ...parent('A'),
    linked(
      'parentARelationship',
      'RELATION_x01',
      "Parent/guardian A's relationship to the student (ST.RELATION_A01, _B01 or _C01)",
    ),
    ...parent('B'),
    linked(
      'parentBRelationship',
      'RELATION_x02',
      "Parent/guardian B's relationship to the student (ST.RELATION_A02, _B02 or _C02)",
    ),
    linked(
      'correspondenceTo',
      'CONTACT_x',
      'Which adult receives correspondence: A=Adult A, B=Adult B, C=Both, N=Neither (ST.CONTACT_A, _B or _C)',
    ),
    linked(
      'academicReports',
      'ACADEMIC_x',
      'Does this family receive academic reports? true for Y, false for N (ST.ACADEMIC_A, _B or _C)',
    ),
    linked(
      'livingWith',
      'LIVING_x',
      'How often the student lives with this family: Always/Mostly/Balanced/Occasionally/Never (ST.LIVING_A, _B or _C)',
    ),
  ];
  const familyColumn = mirrorColumnName(link.family);
  return {
    table,
    mirror: mirrorTableName(table),
    joins: familyKeyed(registry)
      ? [
          {
            alias: FAMILY,
            table: families,
            mirror: mirrorTableName(families),
            key: 'dfkey',
            from: BASE,
            column: familyColumn,
            asText: false,
          },
        ]
      : [],
    where: [{ kind: 'active' }, { kind: 'present', column: familyColumn }],
    fields,
  };
}

/**
 * `student_contacts`: one row per student still in the export and family they are linked to
 * (prime, alternative, additional), with both parents' names, email, mobile and relationship.
 * A family row that is missing or gone from the export leaves its parent columns null.
 */
function studentContacts(registry: LayoutRegistry, naming: ViewNaming, school: ViewField): ViewDef {
  return {
    name: STUDENT_CONTACTS.name,
    table: STUDENT_CONTACTS.table,
    description:
      'Family contacts of the students still in the export (CASES21 ST and DF): one row per student and linked family ' +
      '(prime, alternative, additional), with parents/guardians A and B.',
    selects: STUDENT_CONTACTS.links.map((link) => contactSelect(registry, naming, school, link)),
  };
}

/** `current_students` and `student_contacts` under `naming`. */
export function peopleViews(registry: LayoutRegistry, naming: ViewNaming, school: ViewField): ViewDef[] {
  return [currentStudents(registry, naming, school), studentContacts(registry, naming, school)];
}
