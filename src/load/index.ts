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
