import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

import { BOOKKEEPING, SCHOOL_COLUMN } from '../../load/mirror.js';
import { Verdict } from '../../load/digest.js';
import { KEY_SEPARATOR, type Value } from '../../validate/index.js';
import { zeroCounts, type MergeCounts, type MergeInput, type StagedRow } from '../types.js';
import {
  analyzeStageSql,
  applyChangedSql,
  applyDeactivationsSql,
  applyInsertsSql,
  copyStageSql,
  createDiffSql,
  createStageSql,
  copyLinesSql,
  createLinesSql,
  refreshLinesSql,
  dropTempSql,
  copyMirrorSql,
  logAllInsertedSql,
  analyzeSql,
  copyKeysSql,
  createKeysSql,
  planStagedSql,
  planGoneSql,
  RAISE_WORK_MEM,
  schoolHasRowsSql,
} from './sql.js';
import { readDigest } from './digest.js';

/**
 * The PostgreSQL merge. A school's first load of a table is one COPY straight into the mirror.
 * Later loads read a digest of the school's rows (key, hash, active) and stage (COPY into a
 * temporary table) only the file's rows that are new, changed or inactive; for a full file, the
 * keys of active rows it never showed go to a second temporary table, to be deactivated. One
 * statement per kind of change then applies the plan, reaching rows by address, and logs each
 * change to etl_changes itself, so no row travels back to Node. Unchanged rows are never written.
 */

/** COPY text format: these characters would end a field or a line, or are the escape itself. */
const SPECIAL = /[\\\t\n\r\0]/;
const SPECIAL_ALL = /[\\\t\n\r\0]/g;
const ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
  // PostgreSQL text cannot hold U+0000 at all; failing the night over one stray byte helps no one.
  '\0': '',
};

function copyField(v: Value | undefined): string {
  if (v === null || v === undefined) return '\\N';
  if (typeof v === 'number') return String(v);
  return SPECIAL.test(v) ? v.replace(SPECIAL_ALL, (c) => ESCAPES[c] ?? c) : v;
}

/** One staged row as a line of COPY text: its values in `columns` order, then its row and line hashes (and `suffix`). */
export function copyLine(row: StagedRow, width: number, suffix = ''): string {
  let line = '';
  for (let i = 0; i < width; i++) line += copyField(row.values[i]) + '\t';
  return line + copyField(row.hash) + '\t' + copyField(row.line) + suffix + '\n';
}

/**
 * Characters of COPY text per chunk at most (plus one row). Rows read from a stretch of the file
 * with one character beyond Latin-1 are two-byte strings, and a two-byte string over 128 KB is
 * allocated in V8's large-object space, page by page: encoding a 70,000-character chunk for the
 * socket cost three times what two 35,000-character ones did.
 */
const COPY_CHUNK_CHARS = 48_000;

/** Each batch becomes chunks of COPY text, made only when the socket can take more. */
async function* copyChunks(batches: AsyncIterable<readonly StagedRow[]>, width: number, count: (rows: number) => void, prefix = '', suffix = ''): AsyncGenerator<string> {
  for await (const batch of batches) {
    if (batch.length === 0) continue;
    count(batch.length);
    let chunk = '';
    for (const row of batch) {
      chunk += prefix + copyLine(row, width, suffix);
      if (chunk.length >= COPY_CHUNK_CHARS) {
        yield chunk;
        chunk = '';
      }
    }
    if (chunk.length > 0) yield chunk;
  }
}

function assertMergeable(input: MergeInput): void {
  const { mirror, columns } = input;
  if (mirror.key.length === 0) throw new Error(`cannot merge into ${mirror.name}: the table has no key`);
  const known = new Set(mirror.columns.map((c) => c.name));
  const stray = columns.filter((c) => !known.has(c));
  if (stray.length > 0) throw new Error(`cannot merge into ${mirror.name}: ${stray.join(', ')} are not mirror columns`);
  const missingKey = mirror.key.filter((k) => !columns.includes(k));
  if (missingKey.length > 0) throw new Error(`cannot merge into ${mirror.name}: the file lacks the key column ${missingKey.join(', ')}`);
}

/** Keys (parts joined by U+001F) as COPY lines of their parts, a few thousand to a chunk. */
async function* keyLines(keys: Iterable<string>): AsyncGenerator<string> {
  let text = '';
  let n = 0;
  for (const key of keys) {
    text += `${key.split(KEY_SEPARATOR).map(copyField).join('\t')}\n`;
    if (++n % 4000 === 0) {
      yield text;
      text = '';
    }
  }
  if (text.length > 0) yield text;
}

/** Brings the line hashes of unchanged rows up to date: `text` is chunks of COPY lines of key parts and line hash. */
async function refreshLines(client: PoolClient, lines: string, mirror: MergeInput['mirror'], school: string, text: readonly string[]): Promise<void> {
  await client.query(createLinesSql(lines, mirror));
  await pipeline(Readable.from(text, { highWaterMark: 1 }), client.query(copyFrom(copyLinesSql(lines, mirror))));
  await client.query(analyzeSql(lines));
  await client.query(refreshLinesSql(lines, mirror), [school]);
  await client.query(dropTempSql(lines));
}

/**
 * Merges one file's rows into its mirror table through the staging table `stage` (a name unique
 * within the transaction), logging every change, and returns the counts. The mirror must exist
 * with every column in `input.columns` (ensureMirror runs first); `createdHere` when it was
 * created in the current subtransaction.
 */
export async function mergePostgres(client: PoolClient, stage: string, input: MergeInput, batches: AsyncIterable<readonly StagedRow[]>, createdHere = false): Promise<MergeCounts> {
  assertMergeable(input);
  const { mirror, columns, school, runId, mode } = input;
  const params = [school, runId, mirror.table];
  await client.query(RAISE_WORK_MEM);
  // The store's digest (readDigest) is null exactly when the school has no rows here yet.
  const present = input.digest !== undefined ? input.digest !== null : (await client.query<{ present: boolean }>(schoolHasRowsSql(mirror), [school])).rows[0]?.present === true;
  if (!present) {
    // The school's first night for this table (checked under its run lock): every row is new, so
    // the rows go straight into the mirror with one COPY, as fast as \copy, and are logged after.
    let copied = 0;
    const schoolField = `${copyField(school)}\t`;
    const bookkeeping = `\tt\t${runId}\t${runId}`;
    await pipeline(
      Readable.from(copyChunks(batches, columns.length, (n) => (copied += n), schoolField, bookkeeping), { highWaterMark: 1 }),
      client.query(copyFrom(copyMirrorSql(mirror, columns, createdHere))),
    );
    await client.query(logAllInsertedSql(mirror, createdHere), params);
    return { ...zeroCounts(), inserted: copied };
  }
  // Which rows need work is decided here, against a digest of the school's rows (key, hashes,
  // active): only new, changed and inactive rows are staged, in one COPY, and unchanged rows
  // never leave Node but for their key and line hash when that is out of date.
  const digest = input.digest ?? (await readDigest(client, mirror, school));
  await client.query(createStageSql(stage, mirror, columns));
  let received = 0;
  // The JSON names of the columns, and the image's fixed part, made once.
  const names = columns.map((c) => `${JSON.stringify(c)}:`);
  const fixed = `${JSON.stringify(SCHOOL_COLUMN)}:${JSON.stringify(school)},"${BOOKKEEPING.active}":true,"${BOOKKEEPING.changedRun}":${runId},"${BOOKKEEPING.hash}":`;
  /** A staged row's after image (see STAGE_AFTER): its non-null values and bookkeeping, open at the end. */
  const afterImagePrefix = (row: StagedRow): string => {
    let json = '{';
    for (let i = 0; i < names.length; i++) {
      const v = row.values[i];
      if (v !== null && v !== undefined) json += (names[i] as string) + JSON.stringify(v) + ',';
    }
    const line = row.line === null ? '' : `"${BOOKKEEPING.lineHash}":"${row.line}",`;
    return `${json}${fixed}"${row.hash}",${line}"${BOOKKEEPING.insertedRun}":`;
  };
  const keyIdx = mirror.key.map((k) => columns.indexOf(k));
  /** COPY text of the keys and line hashes of unchanged rows whose stored line hash is out of date, a batch a chunk. */
  const stale: string[] = [];
  async function* wanted(): AsyncGenerator<string> {
    for await (const batch of batches) {
      received += batch.length;
      let text = '';
      let lines = '';
      for (const row of batch) {
        const verdict = digest.classify(row.key, row.hash, row.line);
        if (verdict === Verdict.work) {
          text += copyLine(row, columns.length, `\t${copyField(afterImagePrefix(row))}`);
          if (text.length >= COPY_CHUNK_CHARS) {
            yield text;
            text = '';
          }
        } else if (verdict === Verdict.staleLine) lines += `${keyIdx.map((i) => copyField(row.values[i])).join('\t')}\t${row.line}\n`;
      }
      if (lines.length > 0) stale.push(lines);
      if (text.length > 0) yield text;
    }
  }
  await pipeline(Readable.from(wanted(), { highWaterMark: 1 }), client.query(copyFrom(copyStageSql(stage, columns))));
  if (stale.length > 0) await refreshLines(client, `${stage}_lines`, mirror, school, stale);
  stale.length = 0;
  // A full file deactivates the active rows it never showed: their keys, typed like the mirror's.
  const gone = mode === 'full' ? `${stage}_gone` : null;
  if (gone) {
    await client.query(createKeysSql(gone, mirror));
    await pipeline(Readable.from(keyLines(digest.unseenActive()), { highWaterMark: 1 }), client.query(copyFrom(copyKeysSql(gone, mirror))));
    await client.query(analyzeSql(gone));
  }
  // Statistics let the planner size the joins (and pick their hash sides).
  await client.query(analyzeStageSql(stage, mirror.key));

  const counts = zeroCounts();
  const diff = `${stage}_diff`;
  await client.query(createDiffSql(diff));
  await client.query(planStagedSql(diff, stage, mirror), [school]);
  if (gone) await client.query(planGoneSql(diff, gone, mirror), [school]);
  const changed = (await client.query<{ updated: number; reactivated: number }>(applyChangedSql(diff, stage, mirror, columns), params)).rows[0];
  counts.updated = changed?.updated ?? 0;
  counts.reactivated = changed?.reactivated ?? 0;
  counts.inserted = (await client.query<{ inserted: number }>(applyInsertsSql(diff, stage, mirror, columns), params)).rows[0]?.inserted ?? 0;
  if (gone) {
    counts.deactivated = (await client.query<{ deactivated: number }>(applyDeactivationsSql(diff, mirror), params)).rows[0]?.deactivated ?? 0;
    await client.query(dropTempSql(gone));
  }
  await client.query(dropTempSql(diff));
  counts.unchanged = received - counts.inserted - counts.updated - counts.reactivated;

  // Dropped now, not at commit, so a run of many files holds one staging table at a time.
  await client.query(dropTempSql(stage));
  return counts;
}
