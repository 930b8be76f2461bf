import { EtlError } from '../errors/index.js';
import type { HistoryEntry, HistoryOp, Store } from '../store/index.js';
import { KEY_SEPARATOR } from '../validate/index.js';

/**
 * One row's history, as `cases-etl history` prints it and `GET /api/cases-etl/history/:table/:key`
 * answers it: every published change, oldest first, with the columns it changed. Values are
 * personal data, so they are in the answer only when asked for (`values`); without them a change
 * names its columns and nothing else. Rolled-back runs are not history: what they did was undone.
 */

export interface HistoryQuery {
  /** The CASES table id, any case (`ST`, `sxab`), or a table id (`ST_8865`). */
  readonly table: string;
  /** The row's key; a composite key's parts joined by `|` (spaces around a part are dropped). */
  readonly key: string;
  /** Only this school's row; null or absent: the row of that key in every school. */
  readonly school?: string | null;
  /** Include the changed values (personal data): `--show-values`, `?show_values=true`. */
  readonly values?: boolean;
}

/** One published change (or held night), as shown. */
export interface HistoryItem {
  readonly school: string;
  readonly run: number;
  /** When the run published, ISO. */
  readonly time: string;
  readonly op: HistoryOp;
  /** The columns an update or reactivation changed, in name order; empty for other ops. */
  readonly columns: readonly string[];
  /** Only when values were asked for: each changed column's value before and after, as text. */
  readonly changes?: Readonly<Record<string, { readonly from: string | null; readonly to: string | null }>>;
  /** A held row: the fields the night's file rejected and why (codes, never values). */
  readonly rejected?: ReadonlyArray<{ readonly field: string | null; readonly code: string }>;
}

export interface RowHistory {
  readonly table: string;
  /** The key as people read it: composite parts joined by ` | `. */
  readonly key: string;
  readonly school: string | null;
  /** Whether `changes` carry values. */
  readonly values: boolean;
  readonly entries: readonly HistoryItem[];
}

/** How a key is typed (`A|B`, `A | B`) as the ledger keeps it (parts joined by U+001F). */
export function ledgerKey(text: string): string {
  const parts = text
    .split(KEY_SEPARATOR)
    .join('|')
    .split('|')
    .map((p) => p.trim());
  if (parts.some((p) => p === ''))
    throw new EtlError(
      'ETL_USAGE',
      `the key ${JSON.stringify(text)} has an empty part: give the row's key, a composite key's parts joined by |`,
    );
  return parts.join(KEY_SEPARATOR);
}

/**
 * The ledger's name for `asked` among `known` (the tables runs have read): the same name in any
 * case, or a table id (`ST_8865`) whose base is one. ETL_HISTORY_UNKNOWN_TABLE when neither.
 */
export function resolveHistoryTable(asked: string, known: readonly string[], school: string | null): string {
  const byName = new Map(known.map((t) => [t.toUpperCase(), t]));
  const wanted = asked.trim().toUpperCase();
  const site = /^(.+)_[A-Z0-9]+$/.exec(wanted);
  const found = byName.get(wanted) ?? (site ? byName.get(site[1] as string) : undefined);
  if (found !== undefined) return found;
  const whose = school === null ? 'No run' : `No run of school ${school}`;
  const listed = known.length > 40 ? `${known.slice(0, 40).join(', ')}, …` : known.join(', ');
  throw new EtlError(
    'ETL_HISTORY_UNKNOWN_TABLE',
    `${whose} has read a file for a table ${JSON.stringify(asked.slice(0, 64))}` +
      (known.length > 0 ? `; the tables runs have read are ${listed}` : '; no run has read any file yet'),
  );
}

function shown(entry: HistoryEntry, values: boolean): HistoryItem {
  const base = {
    school: entry.school,
    run: entry.runId,
    time: entry.runTime,
    op: entry.op,
    columns: Object.keys(entry.changes ?? {}),
  };
  const rejected = entry.rejects === null ? {} : { rejected: entry.rejects };
  if (!values || entry.changes === null) return { ...base, ...rejected };
  const changes = Object.fromEntries(Object.entries(entry.changes).map(([c, [from, to]]) => [c, { from, to }]));
  return { ...base, changes, ...rejected };
}

/**
 * Reads one row's history from `store`. ETL_USAGE for an empty key part, ETL_HISTORY_UNKNOWN_TABLE
 * for a table no run has read, ETL_HISTORY_NOT_FOUND when the row has no entry.
 */
export async function readRowHistory(store: Store, query: HistoryQuery): Promise<RowHistory> {
  const school = query.school ?? null;
  const key = ledgerKey(query.key);
  const table = resolveHistoryTable(query.table, await store.historyTables(school), school);
  const entries = await store.rowHistory(school, table, key);
  const display = key.split(KEY_SEPARATOR).join(' | ');
  if (entries.length === 0)
    throw new EtlError(
      'ETL_HISTORY_NOT_FOUND',
      `${table} ${JSON.stringify(display)}${school === null ? '' : ` of school ${school}`} has no published change in the history kept`,
    );
  const values = query.values === true;
  return { table, key: display, school, values, entries: entries.map((e) => shown(e, values)) };
}
