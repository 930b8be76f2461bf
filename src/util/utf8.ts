/**
 * Lengths and cuts by UTF-8 bytes, for the limits on source lines and on the part of a rejected
 * line that is kept (ETL_MAX_LINE_BYTES, ETL_MAX_REJECT_LINE_BYTES): the database stores UTF-8,
 * so that is the unit in which "4 KiB of the line" means what an operator expects.
 */

/** The length of s[from, to) in UTF-8 bytes. */
export function utf8Length(s: string, from = 0, to = s.length): number {
  return Buffer.byteLength(from === 0 && to === s.length ? s : s.slice(from, to), 'utf8');
}

/**
 * The longest start of `s` that is at most `maxBytes` in UTF-8, cut between characters (never
 * inside a surrogate pair). Returns `s` itself when it fits.
 */
export function cutUtf8(s: string, maxBytes: number): string {
  // Every UTF-16 code unit is at most three bytes, so a short string needs no counting.
  if (s.length * 3 <= maxBytes) return s;
  let bytes = 0;
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
    const size = pair ? 4 : c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
    if (bytes + size > maxBytes) break;
    bytes += size;
    i += pair ? 2 : 1;
  }
  return i === s.length ? s : s.slice(0, i);
}

/**
 * Whether s[from, to) is longer than `maxBytes` in UTF-8, counting bytes only when the number of
 * code units leaves it open (each unit is one to three bytes).
 */
export function overUtf8(s: string, from: number, to: number, maxBytes: number): boolean {
  const units = to - from;
  if (units > maxBytes) return true;
  if (units * 3 <= maxBytes) return false;
  return utf8Length(s, from, to) > maxBytes;
}
