export { commas, csvField } from './csv-field.js';
export { compareText } from './compare.js';
export {
  canonicalEncoding,
  createChunkDecoder,
  encodeWindows1252,
  isSupportedEncoding,
  MOJIBAKE,
  textNeedsEncodingCheck,
  type ChunkDecoder,
} from './encoding.js';
export { fmix32, hex32 } from './hash-mix.js';
export { hostNameOf } from './host.js';
export { formatShare } from './percent.js';
export { readSourceChunks, SOURCE_READ_FLAGS, WHOLE_READ_BYTES } from './no-follow.js';
export { ReadAhead } from './read-ahead.js';
export { isTransientIoError, withRetry, type RetryOptions } from './retry.js';
export { cutUtf8, overUtf8, utf8Length } from './utf8.js';
