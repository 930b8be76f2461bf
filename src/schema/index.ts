export {
  assertSameKey,
  BOOKKEEPING,
  CASES_SCHOOL_COLUMN,
  mirrorColumnName,
  mirrorFor,
  mirrorTableName,
  mirrorDescription,
  missingColumns,
  OWN_COLUMN_DESCRIPTIONS,
  SCHOOL_COLUMN,
  type MirrorColumn,
  type MirrorTable,
} from './mirror.js';
export { assertKeyHolds, assertRekeyable, keyAfterSchool, type RekeyCounts, type RekeyResult } from './rekey.js';
export {
  BUILTIN_VIEW_NAMES,
  viewMirrors,
  viewOver,
  viewsFor,
  type MirrorColumns,
  type ViewCast,
  type ViewCondition,
  type ViewDef,
  type ViewField,
  type ViewJoin,
  type ViewSelect,
  type ViewType,
  type ViewValue,
} from './views.js';
export { carriesTime, castOf, isYesNo } from './view-fields.js';
export type { Value } from './value.js';
