export type {
  ColumnLayout,
  ColumnType,
  DateFormat,
  FileFormat,
  KeyRule,
  LayoutOrigin,
  LoadMode,
  TableLayout,
} from './types.js';
export { COLUMN_TYPES, DATE_FORMATS } from './types.js';
export { loadBuiltinLayouts, BUILTIN_SCHEMAS_PATH } from './builtin.js';
export {
  baseTableOf,
  checkRelationshipsJson,
  formatJsonPath,
  readRelationshipsJson,
  siteOf,
  type FileLayoutInput,
  type RelationshipInput,
  type RelationshipsFile,
} from './relationships.js';
export { createLayoutRegistry, loadLayouts, type LayoutRegistry } from './registry.js';
export {
  eduhubFileName,
  fileNameForTable,
  parseEduhubFileName,
  tableForFile,
  tableId,
  type EduhubName,
  type FileTable,
} from './naming.js';
export { BUILTIN_VIEW_TABLES, BUILTIN_VIEWS, CURRENT_STUDENTS, STUDENT_CONTACTS } from './builtin-views.js';
export {
  defaultViewName,
  isReservedColumnName,
  printableName,
  RESERVED_COLUMN_REASON,
  sqlNameProblem,
} from './sql-names.js';
export {
  builderFields,
  builtinFieldName,
  labelFieldName,
  snakeCase,
  VIEW_BUILDER_FIELDS,
  type ViewNaming,
} from './view-naming.js';
export { readLines, readSampleLines } from './lines.js';
export {
  fileLayoutEntry,
  inferFixedLayout,
  tableNameFromFile,
  type FileLayoutEntry,
  type InferredColumn,
  type InferredLayout,
} from './infer.js';
export { reportCsvHeader, type CsvHeaderReport, type UnknownColumn } from './infer-csv.js';
export { checkFixedFile, type CheckReport, type Finding, type FindingLevel } from './check.js';
export { mergeFileLayout, writeFileLayout } from './write.js';
