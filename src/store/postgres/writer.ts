import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

import { BOOKKEEPING, SCHOOL_COLUMN } from '../../schema/index.js';
import { MergePlan } from '../../plan/index.js';
import { ReadAhead, csvField } from '../../util/index.js';
import { zeroCounts, type MergeCounts, type MergeInput, type StagedRow } from '../types.js';
import {
  applyChangedSql,
  applyDeactivationsSql,
  applyInsertsSql,
  applyReturningSql,
  copyAddressesSql,
  copyLinesSql,
  copyStageSql,
  createAddressesSql,
  createLinesSql,
  createStageSql,
  dropTempSql,
  IMAGE_COLUMNS,
  q,
  refreshLinesSql,
  truncateSql,
} from './sql.js';
import { chunked, COPY_CHUNK_CHARS, rowLine } from './copy/text.js';
import { ctidOf, readDigest } from './digest.js';
import { firstLoad } from './copy/first-load.js';
import { copySegment, type SegmentChunk } from './copy/segments.js';

/**
 * The PostgreSQL writer: applies the merge plan (plan/plan.ts). A school's first load of a table
 * goes straight into the mirror by COPY (first-load.ts). Later loads stage (COPY into a temporary
 * table) only the rows the plan finds new, changed or inactive, each with what it needs and its
 * mirror row's address; one statement per kind of change then
 * applies them, reaching rows by address, and logs each change to etl_changes itself, so no row
 * travels back to Node. Unchanged rows are never written. For a full file, the addresses of the
 * active rows it never showed go to a second temporary table, to be deactivated.
 *
 * The staged rows are applied a segment at a time, while the file is read ahead: Node parses the
 * next stretch of the file while PostgreSQL writes the last one's changes.
 */

function assertMergeable(input: MergeInput): void {
  const { mirror, columns } = input;
  if (mirror.key.length === 0) throw new Error(`cannot merge into ${mirror.name}: the table has no key`);
  const known = new Set(mirror.columns.map((c) => c.name));
  const stray = columns.filter((c) => !known.has(c));
  if (stray.length > 0) throw new Error(`cannot merge into ${mirror.name}: ${stray.join(', ')} are not mirror columns`);
  const missingKey = mirror.key.filter((k) => !columns.includes(k));
  if (missingKey.length > 0)
    throw new Error(`cannot merge into ${mirror.name}: the file lacks the key column ${missingKey.join(', ')}`);
}

/** Brings the line hashes of unchanged rows up to date: `text` is chunks of COPY lines of address and line hash. */
async function refreshLines(
  client: PoolClient,
  lines: string,
  mirror: MergeInput['mirror'],
  school: string,
  text: readonly string[],
): Promise<void> {
  await client.query(createLinesSql(lines));
  await pipeline(Readable.from(text, { highWaterMark: 1 }), client.query(copyFrom(copyLinesSql(lines))));
  await client.query(refreshLinesSql(lines, mirror), [school]);
  await client.query(dropTempSql(lines));
}

/** How a PostgreSQL store writes: see `createPostgresStore`. */
export interface WriterOptions {
  /** The mirror was created in the current subtransaction: a first load writes its rows frozen. */
  readonly createdHere?: boolean;
  /** Rows of work staged and applied at a time, while the rest of the file is read; SEGMENT_ROWS by default. */
  readonly segmentRows?: number;
}

/**
 * Rows of work staged per segment at most: each segment is applied while the next is read. Small
 * enough that the last segment, applied after the file is read, is a short wait; large enough
 * that the statements' fixed costs do not count.
 */
const SEGMENT_ROWS = 16_384;
/** COPY data held ahead of the database at most, in bytes: a segment or two of rows of ordinary width. */
const READ_AHEAD_BYTES = 16 << 20;

/**
 * A chunk of COPY data for the staging table and the rows in it. Held as bytes, not text: a
 * string built from a file's fields is a tree of slices that keeps each whole decoded stretch of
 * the file alive, and read ahead that was most of the file.
 */
interface StagedChunk extends SegmentChunk {
  /** Of `rows`, the new ones (the rest are updates and reactivations). */
  readonly inserts: number;
}

/**
 * Stages and applies the chunks `ahead` reads, a segment at a time: a segment's COPY ends at
 * `segmentRows` rows, or sooner, once it holds an eighth of that and nothing more is read yet, so
 * that PostgreSQL starts on the first rows early and then takes what piled up while it worked.
 */
async function applySegments(
  client: PoolClient,
  stage: string,
  ahead: ReadAhead<StagedChunk>,
  segmentRows: number,
  apply: { copy: string; changed: string; inserts: string; returning: string | null },
  params: unknown[],
): Promise<MergeCounts> {
  const counts = zeroCounts();
  const early = Math.max(1, segmentRows >> 3);
  for (let last = false; !last;) {
    let inserts = 0;
    const segment = await copySegment(
      client,
      apply.copy,
      ahead,
      segmentRows,
      early,
      (chunk) => (inserts += chunk.inserts),
    );
    const staged = segment.rows;
    last = segment.last;
    // New keys that are inactive rows returning become reactivations before anything is applied.
    if (apply.returning !== null && inserts > 0)
      inserts -= (await client.query<{ moved: number }>(apply.returning, [params[0]])).rows[0]?.moved ?? 0;
    if (staged > inserts) {
      const changed = (await client.query<{ updated: number; reactivated: number }>(apply.changed, params)).rows[0];
      counts.updated += changed?.updated ?? 0;
      counts.reactivated += changed?.reactivated ?? 0;
    }
    if (inserts > 0)
      counts.inserted += (await client.query<{ inserted: number }>(apply.inserts, params)).rows[0]?.inserted ?? 0;
    if (!last && staged > 0) await client.query(truncateSql(stage));
  }
  return counts;
}

/**
 * Merges one file's rows into its mirror table through the staging table `stage` (a name unique
 * within the transaction), logging every change, and returns the counts. The mirror must exist
 * with every column in `input.columns` (ensureMirror runs first); `options.createdHere` when
 * it was created in the current subtransaction. The caller raises work_mem (RAISE_WORK_MEM) first.
 */
export async function mergePostgres(
  client: PoolClient,
  stage: string,
  input: MergeInput,
  batches: AsyncIterable<readonly StagedRow[]>,
  options: WriterOptions = {},
): Promise<MergeCounts> {
  assertMergeable(input);
  const segmentRows = options.segmentRows ?? SEGMENT_ROWS;
  const { mirror, columns, school, runId, mode } = input;
  const params = [school, runId, mirror.table];
  const plan = new MergePlan(input.digest ?? (await readDigest(client, mirror, school)), mode);
  // The school's first night for this table (read under its run lock): every row is new.
  if (plan.firstLoad) return firstLoad(client, input, batches, options.createdHere === true, segmentRows);
  // Only the rows the plan finds new, changed or inactive are staged; unchanged rows never leave
  // Node but for their address and line hash when that is out of date.
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
  /** COPY text of the addresses and line hashes of unchanged rows whose stored line hash is out of date, a batch a chunk. */
  const stale: string[] = [];
  async function* wanted(): AsyncGenerator<StagedChunk> {
    for await (const batch of batches) {
      received += batch.length;
      // The batch's staged rows as chunks of COPY text, each cut once it is long enough.
      const chunks: StagedChunk[] = [];
      let text = '';
      let rows = 0;
      let inserts = 0;
      const stage = (row: StagedRow, op: string, rid: string | null): void => {
        text += rowLine(row, columns.length, `,${csvField(afterImagePrefix(row))},${op},${csvField(rid)}`);
        rows++;
        if (rid === null) inserts++;
        if (text.length < COPY_CHUNK_CHARS) return;
        chunks.push({ data: Buffer.from(text), rows, inserts });
        text = '';
        rows = 0;
        inserts = 0;
      };
      const planned = plan.batch(batch);
      for (const row of planned.inserts) stage(row, 'insert', null);
      for (const { row, op, address } of planned.changes) stage(row, op, ctidOf(address));
      if (text.length > 0) chunks.push({ data: Buffer.from(text), rows, inserts });
      let lines = '';
      for (const { address, line } of planned.lineRefreshes) lines += `${ctidOf(address)}\t${line}\n`;
      if (lines.length > 0) stale.push(lines);
      yield* chunks;
    }
  }

  const tableColumns = (await client.query<{ attname: string }>(IMAGE_COLUMNS, [q(mirror.name)])).rows.map(
    (r) => r.attname,
  );
  const ahead = new ReadAhead(wanted(), (chunk) => chunk.data.length, READ_AHEAD_BYTES);
  let counts: MergeCounts;
  try {
    const apply = {
      copy: copyStageSql(stage, columns),
      changed: applyChangedSql(stage, mirror, columns, tableColumns),
      inserts: applyInsertsSql(stage, mirror, columns),
      returning: plan.insertsMayReturn ? applyReturningSql(stage, mirror) : null,
    };
    counts = await applySegments(client, stage, ahead, segmentRows, apply, params);
  } finally {
    await ahead.close();
  }
  // Every row is read: the plan now knows which rows the file showed.
  if (stale.length > 0) await refreshLines(client, `${stage}_lines`, mirror, school, stale);
  stale.length = 0;
  const end = plan.end(input.rejected);
  counts.deferred = end.deferred;
  if (end.deactivate > 0) {
    const total = end.deactivate;
    input.onDeactivate?.(0, total);
    if (total <= FEW_DEACTIVATIONS) {
      const addresses = [...ctids(end.addresses())];
      counts.deactivated =
        (await client.query<{ deactivated: number }>(applyDeactivationsSql(null, mirror), [...params, addresses]))
          .rows[0]?.deactivated ?? 0;
    } else {
      const gone = `${stage}_gone`;
      await client.query(createAddressesSql(gone));
      await pipeline(
        Readable.from(chunked(ctids(end.addresses())), { highWaterMark: 1 }),
        client.query(copyFrom(copyAddressesSql(gone))),
      );
      counts.deactivated =
        (await client.query<{ deactivated: number }>(applyDeactivationsSql(gone, mirror), params)).rows[0]
          ?.deactivated ?? 0;
      await client.query(dropTempSql(gone));
    }
    input.onDeactivate?.(counts.deactivated, total);
  }
  counts.unchanged = received - counts.inserted - counts.updated - counts.reactivated;

  // Dropped now, not at commit, so a run of many files holds one staging table at a time.
  await client.query(dropTempSql(stage));
  return counts;
}

/** Deactivations up to this many go as an array of addresses (a TID scan), more through a temporary table. */
const FEW_DEACTIVATIONS = 2_000;

function* ctids(addresses: Iterable<number>): Generator<string> {
  for (const address of addresses) yield ctidOf(address);
}
