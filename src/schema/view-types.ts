/**
 * A view described as data: one or more SELECTs over mirror tables (joined by UNION ALL), each
 * giving the same fields in the same order. Each store renders it in its own SQL (store/view-sql.ts).
 */

/** How a view reads a mirror value: as stored, as a date (a datetime at midnight), or a Y/N flag as a boolean. */
export type ViewCast = 'none' | 'date' | 'boolean';

/** A view column's type, as the column catalogue names it. */
export type ViewType = 'text' | 'integer' | 'numeric' | 'real' | 'date' | 'timestamp' | 'boolean' | 'bytes';

/** Where a view column's value comes from: a mirror column of one of the select's relations, or a constant. */
export type ViewValue =
  | {
      readonly kind: 'column';
      /** The relation's alias: the base table's (`t`) or a join's. */
      readonly from: string;
      /** Mirror column (SQL name). */
      readonly column: string;
      readonly cast: ViewCast;
    }
  | { readonly kind: 'text'; readonly text: string };

export interface ViewField {
  /** The view column's name: `student_id`, or a user's `studentId` exactly as written. */
  readonly field: string;
  readonly value: ViewValue;
  readonly type: ViewType;
  /** What the column means, for comments and the column catalogue. */
  readonly description: string | null;
}

/**
 * `LEFT JOIN <mirror> AS <alias> ON alias.school_id = t.school_id AND alias.<key> = t.<column> AND
 * alias._active`: never loses or repeats a row of the base table, since `key` is the joined
 * table's whole key.
 */
export interface ViewJoin {
  readonly alias: string;
  /** The joined CASES table (`KCT`). */
  readonly table: string;
  readonly mirror: string;
  /** The joined table's key column (SQL name). */
  readonly key: string;
  /** The base table's alias, whose `column` holds the code. */
  readonly from: string;
  readonly column: string;
  /** Compare code and key as text: their types differ. */
  readonly asText: boolean;
}

/** A condition on the base table's rows. */
export type ViewCondition =
  | { readonly kind: 'active' }
  | { readonly kind: 'in'; readonly column: string; readonly values: readonly string[] }
  | { readonly kind: 'present'; readonly column: string };

export interface ViewSelect {
  /** Base CASES table (`ST`), read as alias `t`. */
  readonly table: string;
  readonly mirror: string;
  readonly joins: readonly ViewJoin[];
  readonly where: readonly ViewCondition[];
  readonly fields: readonly ViewField[];
}

export interface ViewDef {
  readonly name: string;
  /** The CASES table the view is about (its first select's base table). */
  readonly table: string;
  /** What the view holds, for its comment. */
  readonly description: string;
  /** Joined by UNION ALL; one for most views. */
  readonly selects: readonly ViewSelect[];
}
