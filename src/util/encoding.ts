import { isAscii } from 'node:buffer';
import { StringDecoder } from 'node:string_decoder';

import iconv from 'iconv-lite';

/**
 * Text decoding for export files. eduHub writes Windows-1252 (the "ANSI" code page); a UTF-8
 * byte-order mark switches a file to UTF-8. Windows-1252 is decoded through Node's native latin1
 * path and then only the 0x80–0x9F block is remapped: iconv-lite is ~20× slower on large files,
 * and Node 20's TextDecoder('windows-1252') decodes 0x80–0x9F as latin1 control characters.
 */

/** Windows-1252 0x80–0x9F; the five undefined bytes become U+FFFD so they can be reported. */
const CP1252_HIGH = [
  '\u20AC',
  '\uFFFD',
  '\u201A',
  '\u0192',
  '\u201E',
  '\u2026',
  '\u2020',
  '\u2021',
  '\u02C6',
  '\u2030',
  '\u0160',
  '\u2039',
  '\u0152',
  '\uFFFD',
  '\u017D',
  '\uFFFD',
  '\uFFFD',
  '\u2018',
  '\u2019',
  '\u201C',
  '\u201D',
  '\u2022',
  '\u2013',
  '\u2014',
  '\u02DC',
  '\u2122',
  '\u0161',
  '\u203A',
  '\u0153',
  '\uFFFD',
  '\u017E',
  '\u0178',
] as const;

const C1_BLOCK = /[\u0080-\u009F]/g;
const C1_TEST = /[\u0080-\u009F]/;

const CP1252_ENCODE = new Map<string, number>(
  CP1252_HIGH.map((ch, i) => [ch, 0x80 + i] as const).filter(([ch]) => ch !== '\uFFFD'),
);

/** The canonical name for an encoding label, or null when unknown. */
export function canonicalEncoding(label: string): string | null {
  const l = label.trim().toLowerCase().replace(/_/g, '-');
  if (['windows-1252', 'cp1252', 'win1252', 'ansi', 'x-cp1252'].includes(l)) return 'windows-1252';
  if (['utf-8', 'utf8'].includes(l)) return 'utf-8';
  if (['latin1', 'iso-8859-1', 'l1'].includes(l)) return 'latin1';
  return iconv.encodingExists(l) ? l : null;
}

/** Whether files in this encoding can be decoded. */
export function isSupportedEncoding(label: string): boolean {
  return canonicalEncoding(label) !== null;
}

function decodeCp1252(buf: Buffer): string {
  // Most of an export is ASCII, which decodes the same in every encoding read here: a native
  // check of the bytes spares a search of the text for the C1 block.
  if (isAscii(buf)) return buf.toString('latin1');
  const text = buf.toString('latin1');
  return C1_TEST.test(text) ? text.replace(C1_BLOCK, (ch) => CP1252_HIGH[ch.charCodeAt(0) - 0x80] ?? '\uFFFD') : text;
}

/** Incremental decoder: feed buffers in order, then call end(). */
export interface ChunkDecoder {
  /** The encoding actually used (a BOM can override the layout's). */
  readonly encoding: string;
  write(chunk: Buffer): string;
  end(): string;
}

/**
 * A decoder for `encoding`, switched to UTF-8 when `firstChunk` starts with a UTF-8 BOM. The BOM
 * itself is dropped. Single-byte encodings need no state across chunks; UTF-8 does.
 */
export function createChunkDecoder(encoding: string, firstChunk: Buffer): ChunkDecoder & { bomLength: number } {
  const hasBom = firstChunk.length >= 3 && firstChunk[0] === 0xef && firstChunk[1] === 0xbb && firstChunk[2] === 0xbf;
  const enc = hasBom ? 'utf-8' : (canonicalEncoding(encoding) ?? 'windows-1252');
  const bomLength = hasBom ? 3 : 0;
  if (enc === 'windows-1252') return { encoding: enc, bomLength, write: decodeCp1252, end: () => '' };
  if (enc === 'latin1') return { encoding: enc, bomLength, write: (b) => b.toString('latin1'), end: () => '' };
  if (enc === 'utf-8') {
    const sd = new StringDecoder('utf8');
    return { encoding: enc, bomLength, write: (b) => sd.write(b), end: () => sd.end() };
  }
  const dec = iconv.getDecoder(enc, { stripBOM: false });
  return { encoding: enc, bomLength, write: (b) => dec.write(b), end: () => dec.end() ?? '' };
}

/** Characters Windows-1252 holds at a byte other than their code point, or not at all. */
// eslint-disable-next-line no-control-regex
const NOT_LATIN1 = /[\u0080-\u009F]|[^\u0000-\u00FF]/u;
// eslint-disable-next-line no-control-regex
const NOT_LATIN1_ALL = /[\u0080-\u009F]|[^\u0000-\u00FF]/gu;

/** Encodes text as Windows-1252; characters it cannot hold become '?'. Used to write sample data. */
export function encodeWindows1252(text: string): Buffer {
  const mapped = NOT_LATIN1.test(text)
    ? text.replace(NOT_LATIN1_ALL, (ch) => String.fromCharCode(CP1252_ENCODE.get(ch) ?? 0x3f))
    : text;
  return Buffer.from(mapped, 'latin1');
}

/**
 * Signs that UTF-8 bytes were decoded as Windows-1252: a lead byte (Â–ï) followed by what a
 * continuation byte (0x80–0xBF) turns into. "Zoë" written as UTF-8 reads as "ZoÃ«".
 */
const CONT =
  '\u0080-\u00BF\u20AC\u201A\u0192\u201E\u2026\u2020\u2021\u02C6\u2030\u0160\u2039\u0152\u017D\u2018\u2019\u201C\u201D\u2022\u2013\u2014\u02DC\u2122\u0161\u203A\u0153\u017E\u0178';
export const MOJIBAKE = new RegExp(`[\u00C2-\u00DF][${CONT}]|[\u00E0-\u00EF][${CONT}]{2}`);

/**
 * Whether decoded text shows any sign of an encoding problem: U+FFFD (bytes invalid in the
 * encoding) or, for Windows-1252, UTF-8 sequences. Checked once per chunk so that records are
 * only examined one by one in the rare chunk that has a problem.
 */
export function textNeedsEncodingCheck(text: string, encoding: string): boolean {
  return text.indexOf('\uFFFD') !== -1 || (encoding === 'windows-1252' && MOJIBAKE.test(text));
}
