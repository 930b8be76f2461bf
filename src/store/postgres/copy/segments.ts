import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

import type { ReadAhead } from '../../../util/index.js';

/** COPY data read ahead of the database, and the rows it holds. */
export interface SegmentChunk {
  readonly data: Buffer;
  readonly rows: number;
}

/** How a segment ended: its rows, and whether the source has no more. */
export interface Segment {
  readonly rows: number;
  readonly last: boolean;
}

/**
 * One COPY (`sql`) of the chunks `ahead` has read, up to `max` rows, or fewer once it holds
 * `early` rows and nothing more is read yet (PostgreSQL then starts on what it has while Node
 * reads on), or to the end of the source. `each` sees every chunk as it goes.
 */
export async function copySegment<T extends SegmentChunk>(
  client: PoolClient,
  sql: string,
  ahead: ReadAhead<T>,
  max: number,
  early = max,
  each?: (chunk: T) => void,
): Promise<Segment> {
  let rows = 0;
  let last = false;
  async function* segment(): AsyncGenerator<Buffer> {
    while (rows < max && !(rows >= early && ahead.waiting === 0)) {
      const next = await ahead.next();
      if (next.done) {
        last = true;
        return;
      }
      rows += next.value.rows;
      each?.(next.value);
      yield next.value.data;
    }
  }
  await pipeline(Readable.from(segment(), { highWaterMark: 1 }), client.query(copyFrom(sql)));
  return { rows, last };
}
