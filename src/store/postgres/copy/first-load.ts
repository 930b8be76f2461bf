import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

import { SCHOOL_COLUMN, type Value } from '../../../schema/index.js';
import { ReadAhead, csvField } from '../../../util/index.js';
import { zeroCounts, type MergeCounts, type MergeInput, type StagedRow } from '../../types.js';
import { COPY_CHUNK_CHARS, copyField, rowLine } from './text.js';
import { copySegment, type SegmentChunk } from './segments.js';
import { copyChangesSql, copyMirrorSql } from '../sql.js';

/**
 * A school's first load of a table on PostgreSQL: every row is new, so the rows go straight into
 * the mirror by COPY, and their insert changes straight into etl_changes by COPY too, both written
 * by Node as it reads the file. They go a segment at a time, the mirror's rows then their log,
 * while the file is read ahead: the log costs PostgreSQL a moment per segment and Node nothing it
 * must wait for, where reading the new rows back to log them cost seconds per million after the
 * load.
 */

/**
 * COPY data held ahead of the database at most, in bytes. Node is the slower side of a first
 * load: this only has to cover a segment's changes going in, and it counts against the flat
 * memory a million rows must keep.
 */
const READ_AHEAD_BYTES = 4 << 20;

/** A chunk of COPY data for the mirror (`data`), and the same rows' lines for etl_changes. */
interface LoadChunk extends SegmentChunk {
  readonly changes: Buffer;
}

/** A key's value as JSON, as the mirror keeps it (U+0000 dropped, as COPY writes it). */
function jsonValue(v: Value): string {
  return JSON.stringify(typeof v === 'string' && v.includes('\0') ? v.replaceAll('\0', '') : v);
}

/** Text that JSON and COPY's text format would both write as it is: no control character, quote, backslash or surrogate. */
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\ud800-\udfff]/;

/**
 * Loads `batches` into a mirror the school has no rows in yet; `createdHere` when the table was
 * created in the current subtransaction (its rows are then written frozen). Each segment of
 * `segmentRows` rows is the mirror's COPY, then the segment's changes (held until then).
 */
export async function firstLoad(
  client: PoolClient,
  input: MergeInput,
  batches: AsyncIterable<readonly StagedRow[]>,
  createdHere: boolean,
  segmentRows: number,
): Promise<MergeCounts> {
  const { mirror, columns, school, runId } = input;
  const schoolField = `${csvField(school)},`;
  const bookkeeping = `,t,${runId},${runId}`;
  // An insert's after image is the row's address: school and key (see insertImageSql).
  const keyIdx = mirror.key.map((k) => columns.indexOf(k));
  const imageStart = `{${JSON.stringify(SCHOOL_COLUMN)}:${jsonValue(school)}`;
  const keyNames = mirror.key.map((k) => `,${JSON.stringify(k)}:`);
  const changeStart = `${runId}\t${copyField(school)}\t${copyField(mirror.table)}\t`;
  // Keys are nearly always plain text, which needs no escaping as JSON or as COPY text.
  const plainStart = copyField(imageStart) === imageStart;
  const changeLine = (row: StagedRow): string => {
    let image = imageStart;
    let plain = plainStart;
    for (let k = 0; k < keyIdx.length; k++) {
      const v = row.values[keyIdx[k] as number] as Value;
      if (typeof v === 'string' && !NEEDS_ESCAPE.test(v)) image += `${keyNames[k] as string}"${v}"`;
      else {
        image += (keyNames[k] as string) + jsonValue(v);
        plain = false;
      }
    }
    if (plain) return `${changeStart}${row.key}\tinsert\t\\N\t${image}}\n`;
    return `${changeStart}${copyField(row.key)}\tinsert\t\\N\t${copyField(`${image}}`)}\n`;
  };

  async function* chunks(): AsyncGenerator<LoadChunk> {
    for await (const batch of batches) {
      let text = '';
      let changes = '';
      let rows = 0;
      for (const row of batch) {
        text += schoolField + rowLine(row, columns.length, bookkeeping);
        changes += changeLine(row);
        rows++;
        if (text.length >= COPY_CHUNK_CHARS) {
          yield { data: Buffer.from(text), changes: Buffer.from(changes), rows };
          text = '';
          changes = '';
          rows = 0;
        }
      }
      if (rows > 0) yield { data: Buffer.from(text), changes: Buffer.from(changes), rows };
    }
  }

  const copyMirror = copyMirrorSql(mirror, columns, createdHere);
  const ahead = new ReadAhead(chunks(), (c) => c.data.length + c.changes.length, READ_AHEAD_BYTES);
  let inserted = 0;
  try {
    for (let last = false; !last;) {
      const changes: Buffer[] = [];
      const segment = await copySegment(client, copyMirror, ahead, segmentRows, undefined, (chunk) =>
        changes.push(chunk.changes),
      );
      last = segment.last;
      if (segment.rows === 0) break;
      await pipeline(Readable.from(changes, { highWaterMark: 1 }), client.query(copyFrom(copyChangesSql())));
      inserted += segment.rows;
    }
  } finally {
    await ahead.close();
  }
  return { ...zeroCounts(), inserted };
}
