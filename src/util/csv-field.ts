/**
 * CSV as PostgreSQL's COPY (FORMAT csv) reads it: fields separated by commas, a field quoted
 * when it holds a comma, a quote or a line break, an inner quote doubled. A null is an empty
 * field and an empty string a quoted one, so the empty columns that make up most of a wide
 * CASES21 row cost one comma each. U+0000 cannot be stored as text at all and is dropped.
 */

const SPECIAL = /[,"\n\r\0]/;

/** One value as a CSV field. */
export function csvField(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return String(v);
  if (v === '') return '""';
  if (!SPECIAL.test(v)) return v;
  return `"${(v.includes('\0') ? v.replaceAll('\0', '') : v).replaceAll('"', '""')}"`;
}

const COMMAS = Array.from({ length: 256 }, (_, n) => ','.repeat(n));

/** `n` commas: a run of null fields, in one piece. */
export function commas(n: number): string {
  return n < COMMAS.length ? (COMMAS[n] as string) : ','.repeat(n);
}
