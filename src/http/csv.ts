/**
 * CSV for people who open it in a spreadsheet: RFC 4180 quoting, and no cell a spreadsheet would
 * run as a formula. Excel, LibreOffice and Sheets treat a cell starting with `=`, `+`, `-` or `@`
 * (and, after trimming, a tab or carriage return) as one, so a rejected key such as
 * `=HYPERLINK(…)` from an export file could act when an admin opens the download (OWASP's
 * "CSV injection"). Such a cell gets a leading `'`, which shows the text as it was.
 */

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** One cell: defused when it would start a formula, quoted when it holds a quote, comma or line break. */
export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** A CSV record: its cells and the CRLF RFC 4180 ends each with. */
export function csvRow(cells: ReadonlyArray<string | number | null>): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}
