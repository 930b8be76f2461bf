import type { LoadMode } from '../layouts/index.js';
import { Verdict, type MirrorDigest } from './digest.js';
import type { RejectedKeys, StagedRow } from './types.js';

/**
 * The merge decision, made once for both databases: given a file's rows and the digest of the
 * school's rows in the mirror (key → address, row hash, line hash, active), what happens to each
 * row, and which stored rows a full file deactivates. No database and no clock: each store's
 * writer applies what the plan says (prepared statements on SQLite; COPY and set-based SQL on
 * PostgreSQL) and only builds the change images, which need the stored rows.
 *
 *  - a key the mirror lacks is inserted;
 *  - a stored row that is inactive is reactivated with the file's values. The stores' digests
 *    hold active rows only (see MirrorDigest.inactiveNotHeld), so a key the digest lacks is
 *    looked up among the school's inactive rows first: SQLite's writer gives the plan a lookup
 *    (`findInactive`), PostgreSQL's resolves the whole segment's new keys in one statement
 *    (`insertsMayReturn`);
 *  - an active row whose row hash differs (or was written by an older hash) is updated;
 *  - an active row with the same values read from other text keeps its values, and only its
 *    stored line hash is refreshed, so the next night skips the line unread;
 *  - anything else is unchanged and not written;
 *  - a rejected row whose key was read is held: counted as shown, so its stored row is neither
 *    changed nor deactivated;
 *  - a full file deactivates the active rows it never showed, unless a reject's key could not be
 *    read: then any of them might be that row, and all are deferred to a clean night.
 *
 * A school's first load of a table (no stored rows) is all inserts; `firstLoad` tells the writer
 * so, for its bulk path.
 */

export type RowAction = 'insert' | 'update' | 'reactivate' | 'refreshLine' | 'unchanged';

/** A stored row the file changes, reached by its address. */
export interface PlannedChange {
  readonly row: StagedRow;
  readonly op: 'update' | 'reactivate';
  readonly address: number;
}

/** An unchanged row whose stored line hash is brought up to date. */
export interface LineRefresh {
  readonly address: number;
  readonly line: string;
}

/** What one batch of the file's rows needs, in the order the rows came. */
export interface PlannedBatch {
  readonly inserts: readonly StagedRow[];
  readonly changes: readonly PlannedChange[];
  readonly lineRefreshes: readonly LineRefresh[];
  readonly unchanged: number;
}

/** What the end of the file decides: the stored rows a full file deactivates, or defers. */
export interface PlannedEnd {
  /** Active rows the full file never showed, to deactivate now; 0 for a delta or a deferring file. */
  readonly deactivate: number;
  /** Their addresses, in the order the digest was read; iterable once per call. */
  addresses(): Iterable<number>;
  /** Rows left active because a keyless reject might have been any of them (see MergeCounts.deferred). */
  readonly deferred: number;
}

/** Finds the address of the school's inactive row with `row`'s key; null when there is none. */
export type InactiveLookup = (row: StagedRow) => number | null;

export class MergePlan {
  private ended = false;
  /** The address of the inactive row the last `classify` found by `findInactive`, or null. */
  private returned: number | null = null;

  constructor(
    private readonly digest: MirrorDigest,
    private readonly mode: LoadMode,
    private readonly findInactive?: InactiveLookup,
  ) {}

  /** The school has no rows in the mirror: every row is an insert, and nothing can be deactivated. */
  get firstLoad(): boolean {
    return this.digest.size === 0 && !this.digest.inactiveNotHeld;
  }

  /**
   * Whether a row `classify` calls an insert may yet be one of the school's inactive rows, which
   * the digest does not hold and no `findInactive` was given to find: the writer must look the
   * inserts' keys up among them, and reactivate those it finds, before it inserts the rest.
   */
  get insertsMayReturn(): boolean {
    return this.digest.inactiveNotHeld && this.findInactive === undefined;
  }

  /**
   * What `row` needs, remembering that the file showed its key. For a change or a line refresh,
   * `lastAddress` then tells which stored row it is.
   */
  classify(row: StagedRow): RowAction {
    this.returned = null;
    const verdict = this.digest.classify(row.key, row.hash, row.line);
    if (verdict === Verdict.unchanged) return 'unchanged';
    if (verdict === Verdict.staleLine) return this.digest.lastAddress() === null ? 'unchanged' : 'refreshLine';
    if (this.digest.lastAddress() === null) {
      if (this.digest.findKey(row.key) !== -1)
        throw new Error('the digest holds a stored row without its address: the plan cannot reach it');
      if (this.digest.inactiveNotHeld && this.findInactive !== undefined) {
        this.returned = this.findInactive(row);
        if (this.returned !== null) return 'reactivate';
      }
      return 'insert';
    }
    return this.digest.lastActive() ? 'update' : 'reactivate';
  }

  /** The address of the stored row `classify` last found; null for a new key. */
  lastAddress(): number | null {
    return this.returned ?? this.digest.lastAddress();
  }

  /** Plans one batch of the file's rows. */
  batch(rows: readonly StagedRow[]): PlannedBatch {
    const inserts: StagedRow[] = [];
    const changes: PlannedChange[] = [];
    const lineRefreshes: LineRefresh[] = [];
    let unchanged = 0;
    for (const row of rows) {
      const action = this.classify(row);
      if (action === 'insert') inserts.push(row);
      else if (action === 'unchanged') unchanged++;
      else if (action === 'refreshLine') {
        lineRefreshes.push({ address: this.digest.lastAddress() as number, line: row.line as string });
        unchanged++;
      } else changes.push({ row, op: action, address: this.lastAddress() as number });
    }
    return { inserts, changes, lineRefreshes, unchanged };
  }

  /**
   * Called once every row is read (the reader has marked the known lines it skipped as shown):
   * holds the rejected rows' keys, then decides the full file's deactivations.
   */
  end(rejected: RejectedKeys | undefined): PlannedEnd {
    if (this.ended) throw new Error('the merge plan has already ended');
    this.ended = true;
    const digest = this.digest;
    const none: PlannedEnd = { deactivate: 0, deferred: 0, addresses: () => [] };
    if (this.mode !== 'full') return none;
    for (const key of rejected?.keys ?? []) digest.hold(key);
    const unseen = digest.countUnseenActive();
    if ((rejected?.keyless ?? 0) > 0) return { ...none, deferred: unseen };
    return { deactivate: unseen, deferred: 0, addresses: () => digest.unseenActiveAddresses() };
  }
}
