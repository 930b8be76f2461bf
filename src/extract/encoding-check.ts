import type { ColumnLayout } from '../layouts/index.js';
import { MOJIBAKE } from '../util/index.js';
import type { RecordProblem } from './records.js';

/**
 * Finds the first field whose text shows an encoding problem: U+FFFD where bytes were not valid
 * in the file's encoding, or UTF-8 read as Windows-1252 ("ZoÃ«"). Such a row is rejected rather
 * than loaded as garbled names.
 */
export function checkEncoding(
  fields: readonly string[],
  columns: readonly ColumnLayout[],
  encoding: string,
): RecordProblem | null {
  for (let i = 0; i < fields.length; i++) {
    const v = fields[i];
    if (!v) continue;
    const field = columns[i]?.name ?? null;
    if (v.indexOf('\uFFFD') !== -1) {
      return {
        code: 'ETL_PARSE_ENCODING_INVALID',
        field,
        message: `bytes that are not valid ${encoding} text in ${field ?? 'a field'}; set "encoding" on the layout to the file's real encoding`,
      };
    }
    if (encoding === 'windows-1252') {
      // The message names the column, not the characters found: those are part of a value.
      if (MOJIBAKE.test(v)) {
        return {
          code: 'ETL_PARSE_ENCODING_MISMATCH',
          field,
          message: `${field ?? 'a field'} looks UTF-8 encoded but the file is read as windows-1252 (it holds characters the way UTF-8 bytes decode); set "encoding": "utf-8" for this layout`,
        };
      }
    }
  }
  return null;
}
