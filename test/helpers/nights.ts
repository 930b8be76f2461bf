import { cp, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import Papa from 'papaparse';

import { createChunkDecoder, encodeWindows1252 } from '../../src/extract/index.js';
import { fixture } from './fixtures.js';

/** The shipped 200-student sample school. */
export const SAMPLE = fixture('..', '..', 'examples', '8865');

/** Copies the shipped sample into `dir`, with mtimes an hour ago so it is settled. */
export async function copySample(dir: string): Promise<void> {
  await cp(SAMPLE, dir, { recursive: true });
  const { readdir } = await import('node:fs/promises');
  const t = new Date(Date.now() - 3_600_000);
  for (const name of await readdir(dir)) await utimes(join(dir, name), t, t);
}

export interface Csv {
  header: string[];
  rows: string[][];
}

/** Reads an eduHub CSV (Windows-1252) into a header and rows of text. */
export async function readCsv(path: string): Promise<Csv> {
  const bytes = await readFile(path);
  const text = createChunkDecoder('windows-1252', bytes).write(bytes);
  const parsed = Papa.parse<string[]>(text.replace(/\r\n?/g, '\n').replace(/\n$/, ''), { newline: '\n' });
  const [header = [], ...rows] = parsed.data;
  return { header, rows };
}

/** Writes rows back as eduHub writes them: quoted only when needed, CRLF, Windows-1252. */
export async function writeCsv(path: string, csv: Csv, mtime: Date = new Date(Date.now() - 60_000)): Promise<void> {
  const cell = (v: string): string => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const text = [csv.header, ...csv.rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
  await writeFile(path, encodeWindows1252(text));
  await utimes(path, mtime, mtime);
}

/** Edits one CSV in place. `edit` gets the rows and a column lookup by name. */
export async function editCsv(
  path: string,
  edit: (rows: string[][], col: (name: string) => number) => string[][],
  mtime?: Date,
): Promise<void> {
  const csv = await readCsv(path);
  const col = (name: string): number => {
    const i = csv.header.indexOf(name);
    if (i === -1) throw new Error(`no column ${name} in ${path}`);
    return i;
  };
  await writeCsv(path, { header: csv.header, rows: edit(csv.rows, col) }, mtime);
}
