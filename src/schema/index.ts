export {
  assertSameKey,
  BOOKKEEPING,
  CASES_SCHOOL_COLUMN,
  mirrorColumnName,
  mirrorFor,
  mirrorTableName,
  missingColumns,
  SCHOOL_COLUMN,
  type MirrorColumn,
  type MirrorTable,
} from './mirror.js';
export { assertKeyHolds, assertRekeyable, keyAfterSchool, type RekeyCounts, type RekeyResult } from './rekey.js';
export { BUILTIN_VIEW_NAMES, viewOver, viewsFor, type ViewDef, type ViewField } from './views.js';
export type { Value } from './value.js';
