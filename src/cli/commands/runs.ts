import type { Command } from 'commander';

import { EtlError } from '../../errors/index.js';
import { openLedgerForReading, type Store } from '../../store/index.js';
import { loadCliContext, outPalette, type CliIo } from '../context.js';
import { countsApplied, formatCount, formatTable } from '../format.js';

export function registerRuns(program: Command, io: CliIo): void {
  program
    .command('runs')
    .description('list the run ledger, newest first')
    .option('--limit <n>', 'how many runs', '20')
    .option('--school <id>', 'only this school')
    .option('--id <run>', 'one run in full: its files and its first rejects (--limit of them, default 20)')
    .option(
      '--original',
      "with --id: show each reject's original line (personal data; the start of it, as etl_rejects keeps it)",
    )
    .option('--json', 'print as JSON')
    .action(async (opts: { limit: string; school?: string; id?: string; json?: boolean; original?: boolean }) => {
      if (!/^\d+$/.test(opts.limit) || Number(opts.limit) < 1)
        throw new EtlError(
          'ETL_USAGE',
          `--limit must be a whole number of 1 or more, not ${JSON.stringify(opts.limit)}`,
        );
      if (opts.original === true && opts.id === undefined)
        throw new EtlError('ETL_USAGE', "--original shows one run's rejected lines: give the run with --id");
      if (opts.id !== undefined && !/^\d+$/.test(opts.id))
        throw new EtlError('ETL_USAGE', `--id must be a run id (a whole number), not ${JSON.stringify(opts.id)}`);
      const { config } = await loadCliContext(io);
      // Listing runs only reads: it creates no database, schema or table, and migrates nothing.
      const ledger = await openLedgerForReading(config.database, { lockTimeoutMs: config.lockTimeoutMs });
      if ('absent' in ledger) {
        const said = `No ledger in ${ledger.absent}: nothing has run yet; \`cases-etl migrate\` creates it.`;
        if (opts.json && opts.id === undefined) {
          io.out('[]');
          io.err(said);
        } else io.out(said);
        return;
      }
      const { store } = ledger;
      try {
        if (opts.id !== undefined) {
          await showRun(io, store, Number(opts.id), Number(opts.limit), {
            json: opts.json ?? false,
            originals: opts.original ?? false,
          });
          return;
        }
        const runs = await store.listRuns({ school: opts.school ?? null, limit: Number(opts.limit) });
        if (opts.json) {
          io.out(JSON.stringify(runs, null, 2));
          return;
        }
        if (runs.length === 0) {
          // A school with no runs in a ledger that has others is not "nothing has run yet".
          const others = opts.school !== undefined && (await store.listRuns({ school: null, limit: 1 })).length > 0;
          io.out(
            others ? `School ${opts.school} has no runs in ${store.location}.` : `No runs yet in ${store.location}.`,
          );
          return;
        }
        io.out(
          formatTable(
            [
              'RUN',
              'SCHOOL',
              'STATUS',
              'TRIGGER',
              'STARTED',
              '>SECONDS',
              '>ROWS',
              '>INSERTED',
              '>UPDATED',
              '>DEACTIVATED',
              '>HELD',
              '>DEFERRED',
              '>REJECTED',
              'REASON',
            ],
            runs.map((r) => [
              String(r.id),
              r.school,
              r.status + (r.dryRun ? ' (dry)' : ''),
              r.trigger,
              r.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
              r.durationMs === null ? '' : (r.durationMs / 1000).toFixed(1),
              formatCount(r.rows),
              // A run that published nothing changed nothing: its would-be counts are for `runs --id`.
              ...[r.inserted, r.updated, r.deactivated].map((n) => (countsApplied(r) ? formatCount(n) : '-')),
              formatCount(r.held),
              formatCount(r.deferred),
              formatCount(r.rejected),
              (r.reason ?? '').slice(0, 80),
            ]),
            '  ',
            { 2: outPalette(io).status },
          ),
        );
      } finally {
        await store.close();
      }
    });
}

/**
 * `runs --id N`: one run with its files and first rejects: where and why, never the values. With
 * `--original`, each reject's original line too: the CLI runs as the database's owner, who can
 * read etl_rejects anyway, so asking for them is an admin asking.
 */
async function showRun(
  io: CliIo,
  store: Store,
  id: number,
  limit: number,
  options: { json: boolean; originals: boolean },
): Promise<void> {
  const { json, originals } = options;
  const run = await store.getRun(id);
  if (!run) throw new EtlError('ETL_RUN_UNKNOWN', `there is no run ${id}`);
  const [files, rejects] = await Promise.all([store.listRunFiles(id), store.listRejects(id, limit, { originals })]);
  if (json) {
    io.out(JSON.stringify({ run, files, rejects }, null, 2));
    return;
  }
  const lines = [
    `Run ${run.id} of school ${run.school}: ${outPalette(io).status(run.status)}${run.dryRun ? ' (dry run)' : ''}, ${run.trigger}, started ${run.startedAt}${run.durationMs === null ? '' : `, ${(run.durationMs / 1000).toFixed(1)} s`}`,
    `  ${formatCount(run.rows)} rows, ${formatCount(run.rejected)} rejected, ${formatCount(run.held)} held; ${countsApplied(run) ? '' : 'nothing published, would have '}` +
      `${formatCount(run.inserted)} inserted, ${formatCount(run.updated)} updated, ${formatCount(run.deactivated)} deactivated, ` +
      `${formatCount(run.reactivated)} reactivated${run.deferred > 0 ? `; ${formatCount(run.deferred)} deactivations deferred` : ''}`,
    ...(run.reason ? [`  ${run.reason}`] : []),
  ];
  if (files.length > 0) {
    lines.push(
      formatTable(
        [
          'FILE',
          'TABLE',
          'MODE',
          '>ROWS',
          ...(countsApplied(run)
            ? ['>INSERTED', '>UPDATED', '>DEACTIVATED']
            : ['>WOULD INSERT', '>WOULD UPDATE', '>WOULD DEACTIVATE']),
          '>UNCHANGED',
          '>HELD',
          '>DEFERRED',
          '>REJECTED',
          'ERROR',
        ],
        files.map((f) => [
          f.fileName,
          f.table,
          f.mode,
          ...[f.rows, f.inserted, f.updated, f.deactivated, f.unchanged, f.held, f.deferred, f.rejected].map(
            formatCount,
          ),
          f.error ?? '',
        ]),
      ),
    );
  }
  if (rejects.length > 0 && !originals) {
    lines.push(`First ${rejects.length} of ${formatCount(run.rejected)} rejected rows (values are not shown):`);
    lines.push(
      formatTable(
        ['FILE', '>LINE', 'KEY', 'FIELD', 'CODE', 'MESSAGE'],
        rejects.map((r) => [r.file, String(r.line), r.key ?? '', r.field ?? '', r.code, r.message]),
      ),
    );
  }
  if (rejects.length > 0 && originals) {
    // One block a reject: an original line does not fit a table column.
    lines.push(
      `First ${rejects.length} of ${formatCount(run.rejected)} rejected rows, with their original lines (personal data):`,
    );
    for (const r of rejects) {
      lines.push(
        `  ${r.file} line ${r.line}${r.key ? ` key ${r.key}` : ''}${r.field ? ` ${r.field}` : ''}: ${r.code} ${r.message}`,
      );
      lines.push(`    ${originalShown(r.originalLine ?? null, r.originalBytes ?? null)}`);
    }
  }
  io.out(lines.join('\n'));
}

/** An original line for a terminal: controls made visible (a line may hold anything), and how much was cut. */
function originalShown(text: string | null, bytes: number | null): string {
  if (text === null) return '(not kept)';
  const shown = JSON.stringify(text);
  const keptBytes = Buffer.byteLength(text, 'utf8');
  return bytes !== null && bytes > keptBytes
    ? `${shown} … (${formatCount(keptBytes)} of ${formatCount(bytes)} bytes kept)`
    : shown;
}
