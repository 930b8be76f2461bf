import type { ErrorCode, Reject } from '../errors/index.js';
import {
  contentEnd,
  DEFAULT_LINE_LIMITS,
  detach,
  originalLine,
  type FileColumns,
  type RawRecord,
} from '../extract/index.js';
import { commas } from '../util/index.js';
import type { TableLayout } from '../layouts/index.js';
import { KeyLineIndex, type KeyLines } from './key-index.js';
import { converterFor, isFailure, type Converter, type Value } from './convert.js';

/** A row that passed every rule: typed values aligned with the file's columns. */
export interface TypedRow {
  /** 1-based line where the record starts. */
  readonly line: number;
  /** The primary key as one string (columns joined by U+001F). */
  readonly key: string;
  readonly values: readonly Value[];
  /** The line hash of the record's text (see extract/line-hash.ts). */
  readonly lineHash: string | null;
  /**
   * The values as CSV (util/csv-field.ts), each followed by a comma, when the validator was asked
   * for it and the record was a plain CSV line: that line, but for the converted fields (numbers,
   * dates), whose values are written in their place. Null otherwise.
   */
  readonly csv: string | null;
}

/**
 * A row that failed a rule: its rejects and, when its key could still be read (every key part
 * present and of its column's type), that key as the validator builds keys. A full file's rejected
 * row with a key is held at its last published version; one without makes the load unable to
 * tell which stored row it was, so the table's deactivations wait for a clean night.
 */
export interface RejectedRow {
  readonly row?: undefined;
  readonly rejects: readonly Reject[];
  /** The row's key, or null when it could not be read. */
  readonly heldKey: string | null;
  /** The key's row was loaded from an earlier line (a duplicate): nothing is held for it. */
  readonly duplicate?: boolean;
}

export type RowResult = { readonly row: TypedRow; readonly rejects?: undefined } | RejectedRow;

/**
 * A converted value as a CSV field. Converters give numbers, decimals as digits, ISO dates and
 * nulls, none of which needs quotes, so none is looked at for them (csvField costs a regular
 * expression a value).
 */
function convertedField(v: Value): string {
  return v === null ? '' : typeof v === 'number' ? String(v) : v;
}

/** Column limits for `createRowValidator`'s shortcut: text of any length, or not text at all. */
const NO_LIMIT = -1;
const CONVERT = -2;

/**
 * Record problems that leave every field in its place: the row's key can still be trusted and
 * shown. Any other problem (a broken quote, a `;`-delimited line, a line too long) may have put
 * anything, a surname or the whole line, where the key should be, so no key is read from it.
 */
const FIELDS_IN_PLACE: ReadonlySet<ErrorCode> = new Set([
  'ETL_PARSE_ENCODING_INVALID',
  'ETL_PARSE_ENCODING_MISMATCH',
  'ETL_ROW_NUL',
]);

/** Characters of a key part shown when its column declares no width: any real key is shorter. */
export const KEY_SHOWN_CHARS = 64;

/** Separates the parts of a composite key; cannot occur in CASES text. */
export const KEY_SEPARATOR = '\u001f';

/** A key as people read it: composite parts joined with " | ". */
export function displayKey(key: string): string {
  return key.split(KEY_SEPARATOR).join(' | ');
}

export interface RowValidator {
  validate(record: RawRecord): RowResult;
}

export interface RowValidatorOptions {
  /** Write TypedRow.csv for rows read from plain CSV lines. */
  readonly csv?: boolean;
  /** Bytes of a rejected record kept in Reject.raw (ETL_MAX_REJECT_LINE_BYTES), default 4096. */
  readonly maxRejectLineBytes?: number;
}

/**
 * Builds the rules for one file: types and lengths per column, required fields, a present key,
 * and no key twice in the file (the first row with a key wins; later ones are rejected and name
 * the line of the first; `seen` holds the keys met so far). Only columns present in the file are
 * held to `required`: a missing column is reported once for the file, not once per row.
 */
export function createRowValidator(
  file: string,
  fileColumns: FileColumns,
  layout: TableLayout,
  seen: KeyLines = new KeyLineIndex(),
  options: RowValidatorOptions = {},
): RowValidator {
  const cols = fileColumns.columns;
  const n = cols.length;
  const names = cols.map((c) => c.name);
  const converters: Converter[] = cols.map(converterFor);
  const keyIdx = (layout.primaryKey ?? []).map((k) => names.indexOf(k));
  const keyNames = keyIdx.map((i) => names[i] ?? '?');
  /** 1 where an empty field is a reject: required, present in the file, and not a key part (reported as a missing key). */
  const mustHave = Uint8Array.from(cols, (c, i) =>
    i < fileColumns.present && c.required && !keyIdx.includes(i) ? 1 : 0,
  );
  /** Per column: the longest text kept as is, NO_LIMIT for any text, CONVERT for a converter call. */
  const textLimit = Int32Array.from(cols, (c) =>
    c.type === 'string' || c.type === 'flag' ? (c.maxLength ?? NO_LIMIT) : CONVERT,
  );
  const wantCsv = options.csv === true;
  const positional = layout.format === 'fixed';
  const keepBytes = options.maxRejectLineBytes ?? DEFAULT_LINE_LIMITS.maxRejectLineBytes;
  /** Per key part: the characters shown, the column's declared width or KEY_SHOWN_CHARS. */
  const keyWidth = keyIdx.map((i) => cols[i]?.maxLength ?? cols[i]?.width ?? KEY_SHOWN_CHARS);

  const reject = (
    record: RawRecord,
    key: string | null,
    field: string | null,
    code: ErrorCode,
    message: string,
  ): Reject => {
    const original = originalLine(record, keepBytes);
    const displayed = key === null ? null : detach(displayKey(key));
    return {
      file,
      line: record.line,
      key: displayed,
      field,
      code,
      message,
      raw: original.text,
      rawBytes: original.bytes,
    };
  };

  /**
   * The key as written, for rejects; null when a part is empty. Each part is cut to its column's
   * width, so a key column holding something else (a run-on value) shows no more than a key would.
   */
  const textKey = (fields: readonly string[]): string | null => {
    let key = '';
    for (let k = 0; k < keyIdx.length; k++) {
      let v = fields[keyIdx[k] as number]?.trim();
      if (!v) return null;
      const width = keyWidth[k] as number;
      if (v.length > width) v = v.slice(0, width);
      key = k === 0 ? v : key + KEY_SEPARATOR + v;
    }
    return key;
  };

  const keyHasNul = (fields: readonly string[]): boolean => keyIdx.some((i) => fields[i]?.includes('\0') === true);

  /**
   * The stored key from typed values, so "012" and "12" in an int key are one key, as in the
   * database; null when a part is missing or failed its conversion.
   */
  const keyOf = (values: readonly Value[]): string | null => {
    let key = '';
    for (let k = 0; k < keyIdx.length; k++) {
      const v = values[keyIdx[k] as number];
      if (v === null || v === undefined) return null;
      key = k === 0 ? String(v) : key + KEY_SEPARATOR + String(v);
    }
    return key;
  };

  /** The key of a record whose other fields were not converted: each key part read as `validate` reads it. */
  const typedKey = (fields: readonly string[]): string | null => {
    const values: Value[] = new Array<Value>(n).fill(null);
    for (const i of keyIdx) {
      const text = fields[i];
      if (text === undefined || text.trim().length === 0) return null;
      const limit = textLimit[i] as number;
      const v =
        limit === NO_LIMIT || (limit !== CONVERT && text.length <= limit) ? text : (converters[i] as Converter)(text);
      if (isFailure(v)) return null;
      values[i] = v;
    }
    return keyOf(values);
  };

  return {
    validate(record) {
      const fields = record.fields;
      if (record.problem) {
        // Only a problem that leaves the fields where they belong lets the key be read, shown and
        // held; a broken quote, a stray delimiter or a bad fixed-width line may have moved
        // anything into the key's place, so the row shows no key and counts as keyless.
        // A key with U+0000 is no key: neither database can store or look up such a value.
        const inPlace =
          fields.length > 0 &&
          FIELDS_IN_PLACE.has(record.problem.code) &&
          !(record.problem.code === 'ETL_ROW_NUL' && keyHasNul(fields));
        // A fixed-width key is read from its own positions, at most its width, whatever else is
        // wrong with the line: it can be shown, though not trusted to hold the row.
        const shown = inPlace || (positional && fields.length > 0) ? textKey(fields) : null;
        const heldKey = inPlace ? typedKey(fields) : null;
        return {
          rejects: [reject(record, shown, record.problem.field, record.problem.code, record.problem.message)],
          heldKey,
        };
      }
      const shownKey = textKey(fields);
      const rejects: Reject[] = [];
      if (shownKey === null) {
        const empty = keyNames.filter((_, k) => !fields[keyIdx[k] as number]?.trim());
        rejects.push(
          reject(record, null, empty[0] ?? null, 'ETL_ROW_KEY_MISSING', `the key ${empty.join(', ')} is empty`),
        );
      }
      const values = new Array<Value>(n);
      // The CSV of the values is the line itself up to `copied`, then converted values in place.
      const line = record.text;
      const csv = wantCsv && record.plain === true;
      let written = '';
      let copied = record.start;
      let at = record.start;
      for (let i = 0; i < n; i++) {
        const text = fields[i];
        // Most eduHub columns are empty in most rows, so the empty case comes first and does least.
        if (text === undefined || text.length === 0) {
          values[i] = null;
          at++;
          if (mustHave[i] === 1)
            rejects.push(
              reject(record, shownKey, names[i] ?? null, 'ETL_ROW_REQUIRED', `${names[i]} is required but empty`),
            );
          continue;
        }
        // Text within its length is kept as it is without a call; anything else goes to the column's converter.
        const limit = textLimit[i] as number;
        if (limit === NO_LIMIT || (limit !== CONVERT && text.length <= limit)) {
          values[i] = text;
          at += text.length + 1;
          continue;
        }
        const v = (converters[i] as Converter)(text);
        if (isFailure(v)) {
          rejects.push(reject(record, shownKey, names[i] ?? null, v.code, v.message));
          values[i] = null;
        } else {
          values[i] = v;
          if (csv) {
            written += line.slice(copied, at) + convertedField(v);
            copied = at + text.length;
          }
        }
        at += text.length + 1;
      }
      if (rejects.length > 0) return { rejects, heldKey: shownKey === null ? null : keyOf(values) };
      const key = keyOf(values) as string;
      const first = seen.addOrGetLine(key, record.line);
      if (first !== undefined) {
        return {
          rejects: [
            reject(
              record,
              key,
              keyNames.join(', '),
              'ETL_ROW_DUPLICATE_KEY',
              `the key already appeared on line ${first}; the first row is kept`,
            ),
          ],
          heldKey: key,
          duplicate: true,
        };
      }
      // After the line's last field, a comma for it and one for each column the file lacks.
      const csvText = csv ? written + line.slice(copied, contentEnd(record)) + commas(n - fields.length + 1) : null;
      return { row: { line: record.line, key, values, lineHash: record.lineHash, csv: csvText } };
    },
  };
}
