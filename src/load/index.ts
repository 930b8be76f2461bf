export {
  archiveFiles,
  archiveStamp,
  pruneArchives,
  type ArchivedFile,
  type ArchiveResult,
  type Manifest,
  type ManifestEntry,
  type NotArchivedReason,
} from './archive.js';
export { filesetChecksum, OFF_THREAD_BYTES, sha256File, sha256FileAside } from './checksum.js';
export { evaluateGuards, type GuardFile, type GuardInput, type GuardTrip } from './guards.js';
export { createRowHasher, type RowHasher } from './hash.js';
export {
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
