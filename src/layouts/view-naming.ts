import type { ViewNaming } from '../config/index.js';

/**
 * How cases-etl names the columns of the views it builds (ETL_VIEW_NAMING), decided here only.
 * The built-in views are written down once, in the seed's camelCase (builtin-views.ts); `snake`
 * derives `student_id` from `studentId`, which both databases accept unquoted, and `camel` keeps
 * the seed's names. A user's `field_mapping` is never renamed: only the names cases-etl adds
 * itself (the built-in views, `school_id`/`active`, `_label` columns) follow the setting.
 */

export type { ViewNaming };

/**
 * Snake names that are not the camel name spelled out: where the seed's name is an abbreviation
 * (`dob`) or too bare to read well in SQL (`date` is a type name; an absence's `amType` is its
 * absence type).
 */
const SNAKE_OVERRIDES: Readonly<Record<string, string>> = {
  dob: 'date_of_birth',
  date: 'absence_date',
  amType: 'am_absence_type',
  pmType: 'pm_absence_type',
};

/** `studentId` → `student_id`, `parentAGivenName` → `parent_a_given_name`, `line1` → `line1`. */
export function snakeCase(camel: string): string {
  return camel.replace(/[A-Z]/g, (c, at: number) => `${at === 0 ? '' : '_'}${c.toLowerCase()}`);
}

/** A built-in field's name under `naming`: the seed's camel name, or its snake form (with the overrides). */
export function builtinFieldName(camel: string, naming: ViewNaming): string {
  if (naming === 'camel') return camel;
  return SNAKE_OVERRIDES[camel] ?? snakeCase(camel);
}

/** The column beside a coded field that carries its lookup's description: `home_group_label`, `homeGroupLabel`. */
export function labelFieldName(field: string, naming: ViewNaming): string {
  return naming === 'camel' ? `${field}Label` : `${field}_label`;
}

/** The fields the view builder adds to every view itself, whatever the mapping says. */
export function builderFields(naming: ViewNaming): { readonly school: string; readonly active: string } {
  return { school: builtinFieldName('schoolId', naming), active: 'active' };
}

/** Every name a builder field takes under either naming: a `field_mapping` may use none of them. */
export const VIEW_BUILDER_FIELDS = ['school_id', 'schoolId', 'active'] as const;
