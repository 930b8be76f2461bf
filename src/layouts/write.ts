import { rename, readFile, writeFile } from 'node:fs/promises';

import { coerceError, EtlError } from '../errors/index.js';
import { checkRelationshipsJson } from './relationships.js';

/**
 * `layouts infer --write`: one `file_layouts` entry merged into an existing relationships.json
 * by splicing text, so everything else (key order, spacing, other layouts, the school's 1,130
 * relationships) stays byte for byte. The entry is written in the file's own indentation and
 * line endings, and the result is checked as a normal load checks it before it is written.
 */

interface Member {
  readonly key: string;
  readonly valueStart: number;
  readonly valueEnd: number;
}

interface ObjectSpan {
  readonly open: number;
  readonly close: number;
  readonly members: readonly Member[];
}

const WS = new Set([' ', '\t', '\n', '\r']);

function skipWs(text: string, i: number): number {
  while (i < text.length && WS.has(text[i] ?? '')) i++;
  return i;
}

/** End (exclusive) of the JSON string starting at `i` (its opening quote). */
function stringEnd(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    if (text[j] === '\\') j++;
    else if (text[j] === '"') return j + 1;
  }
  return text.length;
}

/** End (exclusive) of the JSON value starting at `i`; the text is known to parse. */
function valueEnd(text: string, i: number): number {
  const c = text[i];
  if (c === '"') return stringEnd(text, i);
  if (c === '{' || c === '[') {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const d = text[j];
      if (d === '"') j = stringEnd(text, j) - 1;
      else if (d === '{' || d === '[') depth++;
      else if (d === '}' || d === ']') {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
    return text.length;
  }
  let j = i;
  while (j < text.length && !WS.has(text[j] ?? '') && text[j] !== ',' && text[j] !== '}' && text[j] !== ']') j++;
  return j;
}

/** The members of the object whose `{` is at `open`. */
function objectAt(text: string, open: number): ObjectSpan {
  const members: Member[] = [];
  let i = skipWs(text, open + 1);
  while (text[i] === '"') {
    const keyEnd = stringEnd(text, i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    const valueStart = skipWs(text, skipWs(text, keyEnd) + 1);
    const end = valueEnd(text, valueStart);
    members.push({ key, valueStart, valueEnd: end });
    i = skipWs(text, end);
    if (text[i] === ',') i = skipWs(text, i + 1);
  }
  return { open, close: i, members };
}

/** The file's indentation unit (two spaces, one space, a tab…) and line ending. */
function styleOf(text: string): { indent: string; newline: string } {
  const newline = text.includes('\r\n') ? '\r\n' : '\n';
  const m = /\n([ \t]+)\S/.exec(text);
  return { indent: m?.[1] ?? '  ', newline };
}

/** `value` as JSON in the file's style, its lines after the first indented `depth` levels. */
function render(value: unknown, depth: number, style: { indent: string; newline: string }): string {
  return JSON.stringify(value, null, style.indent)
    .split('\n')
    .join(style.newline + style.indent.repeat(depth));
}

function invalid(path: string, why: string, problems?: readonly string[]): EtlError {
  return new EtlError(
    'ETL_LAYOUT_WRITE_INVALID',
    `cannot add the layout to ${path}: ${why}`,
    problems ? { problems } : {},
  );
}

/**
 * The text of relationships.json with `file_layouts[key]` set to `entry` (replaced when there,
 * added after the other layouts when not, `file_layouts` added at the end when missing). Throws
 * ETL_LAYOUT_WRITE_INVALID when the text is not a JSON object or the result fails the checks.
 */
export function mergeFileLayout(text: string, key: string, entry: unknown, path = 'relationships.json'): string {
  const bom = text.charCodeAt(0) === 0xfeff ? '\uFEFF' : '';
  const body = bom ? text.slice(1) : text;
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
  } catch (cause) {
    throw invalid(path, `it is not a JSON object (${coerceError(cause).message}); fix it first`);
  }
  const style = styleOf(body);
  const root = objectAt(body, skipWs(body, 0));
  const layouts = root.members.find((m) => m.key === 'file_layouts');
  let merged: string;
  if (layouts && body[layouts.valueStart] === '{') {
    const obj = objectAt(body, layouts.valueStart);
    const own = obj.members.find((m) => m.key === key);
    const rendered = render(entry, 2, style);
    if (own) merged = body.slice(0, own.valueStart) + rendered + body.slice(own.valueEnd);
    else {
      const member = `${JSON.stringify(key)}: ${rendered}`;
      const last = obj.members.at(-1);
      merged = last
        ? `${body.slice(0, last.valueEnd)},${style.newline}${style.indent.repeat(2)}${member}${body.slice(last.valueEnd)}`
        : `${body.slice(0, obj.open + 1)}${style.newline}${style.indent.repeat(2)}${member}${style.newline}${style.indent}}${body.slice(obj.close + 1)}`;
    }
  } else if (layouts) {
    throw invalid(path, 'its file_layouts is not an object');
  } else {
    const member = `"file_layouts": ${render({ [key]: entry }, 1, style)}`;
    const last = root.members.at(-1);
    merged = last
      ? `${body.slice(0, last.valueEnd)},${style.newline}${style.indent}${member}${body.slice(last.valueEnd)}`
      : `${body.slice(0, root.open + 1)}${style.newline}${style.indent}${member}${style.newline}}${body.slice(root.close + 1)}`;
  }
  const checked = checkRelationshipsJson(JSON.parse(merged), path);
  if (checked.file === null) {
    const n = checked.problems.length;
    throw invalid(
      path,
      `the result would have ${n} problem${n === 1 ? '' : 's'}:\n  ${checked.problems.join('\n  ')}`,
      checked.problems,
    );
  }
  return bom + merged;
}

/** Reads relationships.json at `path`, merges the entry and writes it back (through a temporary file). */
export async function writeFileLayout(path: string, key: string, entry: unknown): Promise<void> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new EtlError('ETL_LAYOUT_FILE_UNREADABLE', `cannot read ${path}: ${coerceError(cause).message}`, { cause });
  }
  const merged = mergeFileLayout(text, key, entry, path);
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, merged, 'utf8');
  await rename(temporary, path);
}
