export { readCsvRecords, MAX_RECORD_CHARS, type FileProblem } from './csv.js';
export { mapHeader } from './header.js';
export { readFixedRecords, fixedColumns, recordWidth } from './fixed.js';
export { canonicalEncoding, createChunkDecoder, encodeWindows1252, isSupportedEncoding } from '../util/index.js';
export { DECODE_CHUNK_BYTES, readTextChunks, READ_CHUNK_BYTES, type Source } from './text.js';
export {
  contentEnd,
  countNewlines,
  DEFAULT_LINE_LIMITS,
  detach,
  originalLine,
  rawText,
  type FileColumns,
  type LineLimits,
  type NoticeSink,
  type RawRecord,
  type RecordBatch,
  type RecordProblem,
} from './records.js';
export {
  discoverSource,
  type Discovery,
  type DiscoverOptions,
  type FileConflict,
  type FileSet,
  type SourceFile,
} from './discover.js';
export { LineHasher, lineFingerprint, parseLineHash, readHex32, type KnownLineTest } from './line-hash.js';
