import type { Command } from 'commander';

import { EtlError } from '../../errors/index.js';
import type { RollbackResult } from '../../pipeline/index.js';
import { createStore } from '../../store/index.js';
import { loadCliContext, type CliIo } from '../context.js';
import { formatCount, formatTable } from '../format.js';
import { reportFailedDeliveries } from './notify.js';

export function renderRollback(r: RollbackResult): string {
  const lines = [
    r.dryRun
      ? `Rolling back run ${r.runId} of school ${r.school} would undo ${r.runs.length} run${r.runs.length > 1 ? 's' : ''} (dry run: nothing changed):`
      : `Rolled back run ${r.runId} of school ${r.school} (rollback ${r.rollbackId}): ${r.runs.length} run${r.runs.length > 1 ? 's' : ''} undone, newest first.`,
  ];
  for (const run of r.runs) {
    lines.push(`  run ${run.runId}`);
    if (run.tables.length === 0) lines.push('    no rows changed');
    else
      lines.push(
        formatTable(
          ['TABLE', `>${r.dryRun ? 'WOULD DELETE' : 'DELETED'}`, `>${r.dryRun ? 'WOULD RESTORE' : 'RESTORED'}`],
          run.tables.map((t) => [t.table, formatCount(t.deleted), formatCount(t.restored)]),
          '    ',
        ),
      );
  }
  lines.push(
    `${formatCount(r.rowsDeleted)} rows ${r.dryRun ? 'would be ' : ''}deleted, ${formatCount(r.rowsRestored)} ${r.dryRun ? 'would be ' : ''}restored.`,
  );
  return lines.join('\n');
}

export function registerRollback(program: Command, io: CliIo): void {
  program
    .command('rollback <runId>')
    .description(
      'undo a published run exactly: rows it inserted are removed, rows it changed get their old values back',
    )
    .option('--cascade', 'also undo the later runs of the same school, newest first')
    .option('--dry-run', 'print what would change, per table, changing nothing')
    .option('--reason <text>', 'why, for the ledger')
    .option('--json', 'print the result as JSON')
    .option('--progress', 'print a line per run as it is undone, on stderr')
    .action(
      async (
        runIdText: string,
        opts: { cascade?: boolean; dryRun?: boolean; reason?: string; json?: boolean; progress?: boolean },
      ) => {
        if (!/^\d+$/.test(runIdText))
          throw new EtlError('ETL_USAGE', `the run id must be a whole number, not ${JSON.stringify(runIdText)}`);
        const { config } = await loadCliContext(io);
        const { rollbackRun } = await import('../../pipeline/index.js');
        const store = await createStore(config.database, { lockTimeoutMs: config.lockTimeoutMs });
        try {
          await store.migrate();
          const progress = opts.progress === true || (io.isTTY && !opts.json);
          const result = await rollbackRun(Number(runIdText), {
            config,
            store,
            cascade: opts.cascade ?? false,
            dryRun: opts.dryRun ?? false,
            ...(opts.reason ? { reason: opts.reason } : {}),
            ...(progress
              ? {
                  onProgress: (id: number, i: number, n: number) =>
                    io.err(`[${i + 1}/${n}] ${opts.dryRun ? 'planning' : 'undoing'} run ${id}`),
                }
              : {}),
          });
          io.out(opts.json ? JSON.stringify(result, null, 2) : renderRollback(result));
          reportFailedDeliveries(io, result.notifications);
        } finally {
          await store.close();
        }
      },
    );
}
