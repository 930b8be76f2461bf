import type { Command } from 'commander';

import { EtlError } from '../../errors/index.js';
import { mirrorFor, type RekeyResult } from '../../schema/index.js';
import { createStore } from '../../store/index.js';
import { loadCliContext, type CliIo } from '../context.js';
import { formatCount } from '../format.js';

const showKey = (cols: readonly string[]): string => cols.map((c) => c.toUpperCase()).join(', ') || '(none)';

/** What `migrate --rekey` did, in a sentence or two: table, old key → new key, rows kept, runs pruned. */
export function renderRekey(r: RekeyResult): string {
  if (!r.changed) return `${r.table} (${r.mirror}) is already keyed by ${showKey(r.newKey)}: nothing changed.`;
  const keys = `${showKey(r.oldKey)} → ${showKey(r.newKey)}`;
  const lines = [`Rekeyed ${r.table} (${r.mirror}): ${keys}; ${formatCount(r.rows)} rows kept.`];
  if (r.prunedRuns.length === 0) lines.push('No run had change history for the table: nothing was pruned.');
  else {
    const many = r.prunedRuns.length > 1;
    lines.push(
      `Change history pruned for run${many ? 's' : ''} ${r.prunedRuns.join(', ')}: ` +
        `${many ? 'their' : 'its'} images named rows by the old key, so ${many ? 'they' : 'it'} can no longer be rolled back.`,
    );
  }
  return lines.join('\n');
}

export function registerMigrate(program: Command, io: CliIo): void {
  program
    .command('migrate')
    .description('create or update the ledger tables (also done at the start of every command that needs them)')
    .option(
      '--rekey <table>',
      "rebuild a mirror table under its layout's key (DF, DF_8865, or a layout's file name such as STUDENT.DAT)",
    )
    .option('--json', "print the rekey's result as JSON (with --rekey)")
    .action(async (opts: { rekey?: string; json?: boolean }) => {
      if (opts.json && opts.rekey === undefined) throw new EtlError('ETL_USAGE', '--json is for --rekey only');
      const { config, layouts } = await loadCliContext(io);
      // A seed .DAT layout (STUDENT.DAT is table DF) is found by its file name only: see LayoutRegistry.seedDat.
      const layout =
        opts.rekey === undefined ? undefined : (layouts.layoutFor(opts.rekey) ?? layouts.layoutForFileName(opts.rekey));
      if (opts.rekey !== undefined && !layout) {
        throw new EtlError('ETL_LAYOUT_UNKNOWN_TABLE', `no layout for ${opts.rekey}; see \`cases-etl layouts list\``);
      }
      const store = await createStore(config.database, { lockTimeoutMs: config.lockTimeoutMs });
      try {
        const applied = await store.migrate();
        if (!layout) {
          io.out(
            applied.length === 0 ? `${store.location}: up to date` : `${store.location}: applied ${applied.join(', ')}`,
          );
          return;
        }
        // Only the layout's key matters here: the table keeps every column it has.
        const result = await store.rekeyMirror(mirrorFor(layout, []));
        if (opts.json) io.out(JSON.stringify({ ...result, ledgerMigrations: applied }, null, 2));
        else {
          if (applied.length > 0) io.out(`${store.location}: applied ${applied.join(', ')}`);
          io.out(renderRekey(result));
        }
      } finally {
        await store.close();
      }
    });
}
