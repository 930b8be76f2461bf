import type { Command } from 'commander';

import { EtlError } from '../../errors/index.js';
import type { HistoryItem, RowHistory } from '../../pipeline/index.js';
import { openLedgerForReading } from '../../store/index.js';
import { loadCliContext, type CliIo } from '../context.js';
import { formatTable } from '../format.js';

/** A value as a terminal shows it: quoted with its controls made visible, or (empty) for null. */
const value = (v: string | null): string => (v === null ? '(empty)' : JSON.stringify(v));

/** What an entry changed: its columns, their values when asked for, or what a held night rejected. */
function whatChanged(e: HistoryItem): string {
  if (e.rejected) {
    const fields = e.rejected.map((r) => `${r.field ?? 'the line'} (${r.code})`);
    return `kept as it was; rejected: ${[...new Set(fields)].join(', ')}`;
  }
  if (e.changes)
    return e.columns
      .map((c) => `${c}: ${value(e.changes?.[c]?.from ?? null)} → ${value(e.changes?.[c]?.to ?? null)}`)
      .join('; ');
  return e.columns.join(', ');
}

/** `cases-etl history` as text: a line of what was asked, then a table of entries, oldest first. */
export function renderHistory(h: RowHistory): string {
  const whose = h.school === null ? '' : ` of school ${h.school}`;
  const n = h.entries.length;
  const lines = [
    `${h.table} ${h.key}${whose}: ${n} published change${n === 1 ? '' : 's'}, oldest first` +
      (h.values ? ' (values are personal data)' : '; values are not shown (--show-values shows them)'),
  ];
  const bySchool = h.school === null;
  lines.push(
    formatTable(
      [...(bySchool ? ['SCHOOL'] : []), '>RUN', 'PUBLISHED', 'OP', h.values ? 'CHANGES' : 'COLUMNS'],
      h.entries.map((e) => [
        ...(bySchool ? [e.school] : []),
        String(e.run),
        e.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
        e.op,
        whatChanged(e),
      ]),
    ),
  );
  return lines.join('\n');
}

export function registerHistory(program: Command, io: CliIo): void {
  program
    .command('history <table> <key>')
    // One line in the main help (it must fit a screen); the rest is in the usage below.
    .description("a row's published changes, oldest first")
    .addHelpText(
      'after',
      [
        '',
        '<table> is the CASES table (ST, sxab) or a table id (ST_8865); a composite',
        '<key>\'s parts are joined by | ("7A|2024"). Each change names the columns it',
        'changed; their values are personal data, shown only with --show-values.',
        'Exit 0 with history, 1 when the row has none, 2 for an unknown table.',
      ].join('\n'),
    )
    .option('--school <id>', "only this school's row (default: the row of that key in every school)")
    .option('--show-values', 'show what each changed column held before and after (personal data)')
    .option('--json', 'print as JSON')
    .action(async (table: string, key: string, opts: { school?: string; showValues?: boolean; json?: boolean }) => {
      if (opts.school !== undefined && !/^[A-Za-z0-9]+$/.test(opts.school))
        throw new EtlError('ETL_USAGE', `--school must be a school number, not ${JSON.stringify(opts.school)}`);
      const { config } = await loadCliContext(io);
      // History only reads: it creates no database, schema or table, and migrates nothing.
      const ledger = await openLedgerForReading(config.database, { lockTimeoutMs: config.lockTimeoutMs });
      if ('absent' in ledger)
        throw new EtlError('ETL_HISTORY_NOT_FOUND', `no ledger in ${ledger.absent}: nothing has run yet`);
      const { store } = ledger;
      try {
        // Imported here: the pipeline is loaded by the commands that use it, not at start-up.
        const { readRowHistory } = await import('../../pipeline/index.js');
        const history = await readRowHistory(store, {
          table,
          key,
          school: opts.school ?? null,
          values: opts.showValues === true,
        });
        io.out(opts.json ? JSON.stringify(history, null, 2) : renderHistory(history));
      } finally {
        await store.close();
      }
    });
}
