import { createHash } from 'node:crypto';

import type { LoadMode } from '../layouts/index.js';

/**
 * A file a school's table was last loaded from, as the ledger recorded it: the newest published
 * run (succeeded or warning, not a dry run, not rolled back) that read a file for the table
 * without a file-level error. A run that loaded two files for the table (a full and a delta)
 * gives two.
 */
export interface PreviousLoad {
  readonly runId: number;
  readonly sha256: string;
  /** How its lines were read (see `readAs`); null for loads recorded before it was. */
  readonly readAs: string | null;
  readonly mode: LoadMode;
  readonly records: number;
  readonly rows: number;
  readonly rejected: number;
}

/** The file about to be loaded: its bytes' checksum, how its lines would be read, and its mode. */
export interface FileIdentity {
  readonly sha256: string;
  readonly readAs: string;
  readonly mode: LoadMode;
}

/**
 * The load a file repeats exactly, when loading it would change nothing; null otherwise. True
 * when the table's last load read the same bytes, the same way, in the same mode, and kept
 * every row (nothing rejected, so nothing held or deferred): the table then holds exactly those
 * rows, since only a load of the table writes to it and a rolled-back run has been undone. Every
 * row would be unchanged, a full file would deactivate nothing, and no reject would be found.
 * (The caller still checks the table has at least the rows that load left: one emptied or
 * dropped behind the ledger's back is then read in full, which puts them back.)
 */
export function repeatedLoad(previous: readonly PreviousLoad[], file: FileIdentity): PreviousLoad | null {
  if (previous.length !== 1) return null;
  const last = previous[0] as PreviousLoad;
  if (last.sha256 !== file.sha256 || last.readAs !== file.readAs || last.mode !== file.mode) return null;
  return last.rejected === 0 && last.rows === last.records ? last : null;
}

/**
 * How a file's lines are read, as one value: the line hash's seed (columns as mapped from the
 * header, their types and lengths, key, format, encoding, version: see extract/line-hash.ts)
 * and the longest line accepted. Two loads of the same bytes read the same way give the same rows.
 */
export function readAsOf(fingerprint: string, maxLineBytes: number): string {
  return createHash('sha256').update(`${fingerprint}\n${maxLineBytes}`).digest('hex');
}
