export { converterFor, isFailure, type Converter, type ConversionFailure, type Value } from './convert.js';
export { parseDate, describeDateFormat, type DateResult } from './dates.js';
export {
  createRowValidator,
  displayKey,
  KEY_SEPARATOR,
  type RowResult,
  type RowValidator,
  type RowValidatorOptions,
  type TypedRow,
} from './validator.js';
export { KeyTable } from './key-index.js';
export {
  createValidatedFileReader,
  type FileFailure,
  type ValidatedFileReaderOptions,
  type KnownLines,
  type ValidatedBatch,
  type ValidatedFileReader,
} from './read.js';
