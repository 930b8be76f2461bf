import { hostname } from 'node:os';

import type { NotifyOn } from '../config/index.js';
import { ERROR_CATALOGUE, type ErrorCode } from '../errors/index.js';
import { compareText } from '../util/index.js';

/**
 * One notification, whatever the channel: a title, a one-line summary, facts and detail lines.
 * Built only from ids, counts, codes, file and table names and the run's own messages (guard
 * rails and file errors, which name files, lines and fields, never values): no personal data.
 */
export interface Notification {
  readonly event: NotifyEvent;
  readonly level: NotificationLevel;
  readonly title: string;
  readonly summary: string;
  readonly facts: ReadonlyArray<readonly [string, string]>;
  readonly details: readonly string[];
  /** "View run": the run on the dashboard, when ETL_PUBLIC_URL says where people reach it. */
  readonly link?: { readonly label: string; readonly url: string };
}

/** The dashboard's address of a run (it opens the run's detail), or undefined without ETL_PUBLIC_URL. */
export function runLink(publicUrl: string | null | undefined, runId: number): Notification['link'] {
  if (!publicUrl) return undefined;
  return { label: 'View run', url: `${publicUrl.replace(/\/+$/, '')}/dashboard#run=${runId}` };
}

export type NotificationLevel = 'success' | 'warning' | 'error' | 'info';

/** What a notification is about: ETL_NOTIFY_ON picks the outcomes sent; a test is always sent. */
export type NotifyEvent = NotifyOn | 'test';

/** Detail lines kept in one message; the ledger has the rest. */
const MAX_DETAILS = 8;

const count = (n: number): string => n.toLocaleString('en-AU');
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** Characters kept of one detail line: eight of them fit in one Slack section (3,000). */
const MAX_DETAIL_CHARS = 300;

/**
 * C0 and C1 controls, DEL, line and paragraph separators and bidirectional overrides: a file or
 * header name from the export may hold any of them, and in a chat message or mail they break
 * the layout, hide text or reorder it.
 */
const CONTROL = /[\p{Cc}\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]+/gu;

/**
 * Text from the export (file names, header names in a run's reason) as a message may carry it:
 * controls become a space, and it is cut to `max` characters, never inside a surrogate pair.
 */
export function cleanText(text: string, max = MAX_DETAIL_CHARS): string {
  // Cut first (with room for the controls' spaces), so a huge reason is never scanned whole.
  const head = text.length > max * 2 ? text.slice(0, max * 2) : text;
  const clean = head.replace(CONTROL, ' ');
  if (clean.length <= max && head.length === text.length) return clean;
  let cut = Math.min(clean.length, max - 1);
  if (cut > 0 && (clean.charCodeAt(cut - 1) & 0xfc00) === 0xd800) cut--;
  return `${clean.slice(0, cut)}…`;
}

/** Characters kept of a file name in a detail line; eduHub's are about 12. */
const MAX_NAME_CHARS = 80;

/** At most MAX_DETAILS lines, each cleaned and cut (cleanText), the last saying where the rest are. */
function capped(lines: readonly string[], rest = 'in the run ledger'): string[] {
  const kept =
    lines.length <= MAX_DETAILS
      ? [...lines]
      : [...lines.slice(0, MAX_DETAILS - 1), `… and ${lines.length - (MAX_DETAILS - 1)} more ${rest}`];
  return kept.map((l) => cleanText(l));
}

/** What a message needs of a school's run (the pipeline's SchoolRunResult has it all). */
export interface RunForNotice {
  readonly runId: number;
  readonly school: string;
  readonly status: 'succeeded' | 'warning' | 'failed' | 'skipped';
  readonly dryRun: boolean;
  readonly reason: string | null;
  readonly errors: readonly string[];
  readonly stats: {
    readonly files: number;
    readonly records: number;
    readonly rows: number;
    readonly rejected: number;
    readonly durationMs: number;
    readonly inserted: number;
    readonly updated: number;
    readonly deactivated: number;
    readonly reactivated: number;
    readonly held: number;
    readonly deferred: number;
  };
  readonly tables: ReadonlyArray<{
    readonly file: string;
    readonly table: string;
    readonly rejected: number;
    readonly rejectsByCode?: Partial<Record<ErrorCode, number>>;
    readonly error: string | null;
  }>;
}

/** What a message needs of a rollback (the pipeline's RollbackResult has it all). */
export interface RollbackForNotice {
  readonly rollbackId: number | null;
  readonly school: string;
  readonly runs: ReadonlyArray<{ readonly runId: number }>;
  readonly rowsDeleted: number;
  readonly rowsRestored: number;
  /** Why it was asked for (`--reason`, the dashboard's reason field): the operator's words, cut and cleaned. */
  readonly reason?: string | null;
}

/** Characters kept of a rollback's reason. */
const MAX_REASON_CHARS = 200;

/** `: 3 × ETL_TYPE_DATE (A date could not be read), …`, most frequent first: what to look for, no values. */
function byCode(codes: Partial<Record<ErrorCode, number>> | undefined): string {
  const entries = Object.entries(codes ?? {}).filter(([, n]) => (n ?? 0) > 0) as Array<[ErrorCode, number]>;
  if (entries.length === 0) return '';
  entries.sort((a, b) => b[1] - a[1] || compareText(a[0], b[0]));
  return `: ${entries.map(([code, n]) => `${count(n)} × ${code} (${ERROR_CATALOGUE[code]?.title ?? 'see docs/errors.md'})`).join(', ')}`;
}

const TITLES: Record<
  Exclude<RunForNotice['status'], 'skipped'>,
  { level: NotificationLevel; title: (school: string) => string }
> = {
  succeeded: { level: 'success', title: (school) => `CASES21 data for school ${school} loaded` },
  warning: { level: 'warning', title: (school) => `CASES21 data for school ${school} loaded, with rejected rows` },
  failed: { level: 'error', title: (school) => `CASES21 load of school ${school} failed: nothing was published` },
};

/** The message for one school's finished run (not a skipped or dry run). */
export function runNotification(run: RunForNotice, trigger: string, publicUrl: string | null = null): Notification {
  const link = runLink(publicUrl, run.runId);
  const { level, title } = TITLES[run.status === 'skipped' ? 'succeeded' : run.status];
  const s = run.stats;
  const rate = s.records === 0 ? '0%' : `${((s.rejected / s.records) * 100).toFixed(s.rejected === 0 ? 0 : 2)}%`;
  const details = [
    ...(run.reason ? [run.reason] : []),
    ...run.errors.filter((e) => e !== run.reason),
    ...run.tables
      .filter((t) => t.rejected > 0 && !t.error)
      .map(
        (t) =>
          `${cleanText(t.file, MAX_NAME_CHARS)} (${t.table}): ${count(t.rejected)} row${t.rejected === 1 ? '' : 's'} rejected${byCode(t.rejectsByCode)}`,
      ),
  ];
  return {
    event: run.status === 'skipped' ? 'succeeded' : run.status,
    level,
    title: title(run.school),
    summary: `Run ${run.runId} (${trigger}): ${count(s.rows)} rows from ${s.files} file${s.files === 1 ? '' : 's'} in ${seconds(s.durationMs)}, ${count(s.rejected)} rejected (${rate}).`,
    facts: [
      ['School', run.school],
      ['Run', String(run.runId)],
      ['Status', run.status],
      // A failed run published nothing: its counts are what it would have done, and say so.
      ...(run.status === 'failed'
        ? ([
            ['Would have inserted', count(s.inserted)],
            ['Would have updated', count(s.updated)],
            ['Would have marked inactive', count(s.deactivated)],
          ] as const)
        : ([
            ['Inserted', count(s.inserted)],
            ['Updated', count(s.updated)],
            ['Marked inactive', count(s.deactivated)],
            ['Reactivated', count(s.reactivated)],
          ] as const)),
      ['Rejected', `${count(s.rejected)} (${rate})`],
      ['Held (rejected, kept as they were)', count(s.held)],
      ...(s.deferred > 0 ? ([['Deactivations deferred', count(s.deferred)]] as const) : []),
      ['Host', hostname()],
    ],
    details: capped(details, `(cases-etl runs --id ${run.runId}, or the run on the dashboard)`),
    ...(link ? { link } : {}),
  };
}

/** The message for a rollback that was carried out. */
export function rollbackNotification(
  result: RollbackForNotice,
  requestedBy: string,
  publicUrl: string | null = null,
): Notification {
  const ids = result.runs.map((r) => r.runId);
  // The earliest run undone: its page shows it rolled back, and the runs after it.
  const link = ids.length > 0 ? runLink(publicUrl, Math.min(...ids)) : undefined;
  const reason = result.reason?.trim() ? cleanText(result.reason.trim(), MAX_REASON_CHARS) : null;
  return {
    event: 'rolled_back',
    level: 'warning',
    title: `CASES21 load of school ${result.school} rolled back`,
    summary: `Run${ids.length > 1 ? 's' : ''} ${ids.join(', ')} undone (rollback ${result.rollbackId}): ${count(result.rowsDeleted)} rows removed, ${count(result.rowsRestored)} restored.`,
    facts: [
      ['School', result.school],
      ['Runs undone', ids.join(', ')],
      ['Rows removed', count(result.rowsDeleted)],
      ['Rows restored', count(result.rowsRestored)],
      ['Requested by', requestedBy],
      ...(reason ? ([['Reason', reason]] as const) : []),
      ['Host', hostname()],
    ],
    details: [],
    ...(link ? { link } : {}),
  };
}

/** The message for a school's run that could not finish at all (the database or the share was down through every attempt). */
export function jobFailureNotification(input: {
  school: string;
  attempts: number;
  error: string;
  jobId: string | null;
}): Notification {
  return {
    event: 'failed',
    level: 'error',
    title: `CASES21 load of school ${input.school} could not run`,
    summary: `The run gave up after ${input.attempts} attempt${input.attempts === 1 ? '' : 's'}; nothing was published and the previous data is intact.`,
    facts: [
      ['School', input.school],
      ['Attempts', String(input.attempts)],
      ...(input.jobId ? ([['Job', input.jobId]] as const) : []),
      ['Host', hostname()],
    ],
    details: capped([input.error]),
  };
}

/**
 * The message for a scheduled night that started no run at all: the export folder could not be
 * read, or held no CASES21 files (CASES21 did not export, or exported somewhere else). `partial`:
 * the nightly job stopped while it was queueing the schools' runs (its worker died, and BullMQ
 * gave it up): the runs it queued before that still run, the others do not.
 */
export function nightNotification(input: {
  night: string;
  folder: string | null;
  problem: string;
  partial?: boolean;
}): Notification {
  return {
    event: 'failed',
    level: 'error',
    title: input.partial ? 'CASES21 nightly run stopped while queueing schools' : 'CASES21 nightly run loaded nothing',
    summary: input.partial
      ? `The scheduled run for the night of ${input.night} stopped before it had queued every school's run: the runs it queued still run, and a school it did not queue keeps its previous data until its next run.`
      : `The scheduled run for the night of ${input.night} started no school's run; the previous data is unchanged.`,
    facts: [
      ['Night', input.night],
      ['Export folder', input.folder ?? '(not set: CASES_DIRECTORY)'],
      ['Host', hostname()],
    ],
    details: capped([input.problem]),
  };
}

/** `cases-etl notify test`: proves a channel is wired up. */
export function testNotification(): Notification {
  return {
    event: 'test',
    level: 'info',
    title: 'cases-etl test notification',
    summary: 'If you can read this, cases-etl can reach this channel. Nothing was loaded.',
    facts: [
      ['Host', hostname()],
      ['Sent', new Date().toISOString()],
    ],
    details: [],
  };
}
