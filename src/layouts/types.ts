/** How a column's text is turned into a value. `flag` is a one-letter code (Y/N/U) kept as is. */
export type ColumnType = 'string' | 'flag' | 'smallint' | 'int' | 'decimal' | 'float' | 'date' | 'datetime' | 'bytes';

export const COLUMN_TYPES = [
  'string',
  'flag',
  'smallint',
  'int',
  'decimal',
  'float',
  'date',
  'datetime',
  'bytes',
] as const;

/**
 * Accepted date formats. `eduhub` is `d/MM/yyyy h:mm:ss tt` (time optional), `yyyymmdd` the
 * fixed-width form, `iso` ISO 8601; `auto` accepts any of the three, told apart by shape.
 */
export type DateFormat = 'auto' | 'eduhub' | 'yyyymmdd' | 'iso';

export const DATE_FORMATS = ['auto', 'eduhub', 'yyyymmdd', 'iso'] as const;

/** The two file formats: eduHub-style CSV with a header, or fixed-width records. */
export type FileFormat = 'csv' | 'fixed';

/** `full`: the file is the whole table; `delta`: changed rows only, never deletes. */
export type LoadMode = 'full' | 'delta';

/** Where a layout came from, for `layouts list` and error messages. */
export type LayoutOrigin = 'builtin' | 'relationships' | 'profile';

/**
 * Which rule chose a layout's key, for `layouts show` and the run's notice: the layout's own
 * `primary_key`; the built-in table's key; the layout's first column because the profile
 * (`primary_keys`) found it unique; the profile's `<TABLE>KEY`; the profile's `TID`.
 */
export type KeyRule = 'layout' | 'builtin' | 'profile-first-column' | 'table-key' | 'tid';

export interface ColumnLayout {
  /** CASES21 column name, upper case as in the export header. */
  readonly name: string;
  readonly type: ColumnType;
  /** Maximum characters for string and flag columns; null means unbounded (memo). */
  readonly maxLength: number | null;
  /** Date parsing for date and datetime columns. */
  readonly format: DateFormat;
  /** An empty value is a reject. Key columns are always required. */
  readonly required: boolean;
  /** Fixed-width: 0-based character position and width. Null for CSV layouts. */
  readonly start: number | null;
  readonly width: number | null;
  /** Another table's column this one refers to, as `TABLE.COLUMN` (informational). */
  readonly references: string | null;
  readonly description: string | null;
}

export interface TableLayout {
  /** Base CASES21 table name without a site suffix: `ST`, `SF`, `DF`. Mirror table is `cases_<table>`. */
  readonly table: string;
  readonly origin: LayoutOrigin;
  /** Human-readable place the layout was defined, e.g. `relationships.json file_layouts["STUDENT.DAT"]`. */
  readonly originDetail: string;
  readonly format: FileFormat;
  /** Text encoding of the file: `windows-1252` (eduHub default) or `utf-8`; a UTF-8 BOM always wins. */
  readonly encoding: string;
  /** The file name for fixed-width layouts (matched case-insensitively); null for eduHub naming. */
  readonly filename: string | null;
  /** The seed's `table_name` (e.g. `DF_8865`) when the layout came from file_layouts. */
  readonly tableName: string | null;
  /** Key columns, or null when none could be resolved (see `keyProblem`). */
  readonly primaryKey: readonly string[] | null;
  /** Why no key could be resolved; a file of this table cannot be loaded while this is set. */
  readonly keyProblem: string | null;
  /** The rule that chose `primaryKey`; null when there is no key. */
  readonly keyRule: KeyRule | null;
  /** Known columns in declared order. For profile-only tables this is empty and the header decides. */
  readonly columns: readonly ColumnLayout[];
  /** Whether columns the layout does not know (a new CASES release) are accepted as text. */
  readonly openColumns: boolean;
  /** CASES column name to application field name, for the table's view. */
  readonly fieldMapping: Readonly<Record<string, string>> | null;
  /** Name of the friendly view built from `fieldMapping`. */
  readonly view: string | null;
  /** Forces every file of this layout to load as full or delta; null follows the file name. */
  readonly mode: LoadMode | null;
  /** A run must not publish without this table. */
  readonly required: boolean;
  readonly description: string | null;
  /** Unique column sets seen in the school's data profile (relationships.json primary_keys). */
  readonly candidateKeys: readonly string[];
}
