import type { Command } from 'commander';

import { createStore } from '../../store/index.js';
import { loadCliContext, outPalette, type CliIo } from '../context.js';
import { createRunProgress } from '../progress.js';
import { renderRun, runExitCode } from '../summary.js';
import { reportFailedDeliveries } from './notify.js';

export { renderRun } from '../summary.js';

export function registerRun(program: Command, io: CliIo): void {
  program
    .command('run')
    .description('load the export folder into the database now: all or nothing per school')
    .option('--source <dir>', 'export folder (default: CASES_DIRECTORY)')
    .option('--school <id>', 'only this school; also the school id of fixed-width files')
    .option('--dry-run', 'do everything but publish: report what would change')
    .option('--force', 'load the file set even if it is the one the school last published (recorded)')
    .option(
      '--reread',
      'read every line of every file, even those already loaded: rows deleted or deactivated by hand come back (implies --force; recorded)',
    )
    .option(
      '--override-guards',
      'publish even if a guard rail trips: rejects over the limit, a missing or unreadable file (recorded)',
    )
    .option('--allow-shrink', 'override the shrink and empty-file guard rails for this run (recorded)')
    .option('--json', 'print the result as JSON')
    .option('--progress', 'print a progress line per file on stderr even when it is not a terminal (on one, a bar too)')
    .action(
      async (opts: {
        source?: string;
        school?: string;
        dryRun?: boolean;
        force?: boolean;
        reread?: boolean;
        overrideGuards?: boolean;
        allowShrink?: boolean;
        json?: boolean;
        progress?: boolean;
      }) => {
        const ctx = await loadCliContext(io, { sourceDirectory: opts.source, schoolId: opts.school });
        const { runEtl } = await import('../../pipeline/index.js');
        const store = await createStore(ctx.config.database, { lockTimeoutMs: ctx.config.lockTimeoutMs });
        try {
          await store.migrate();
          // On a terminal: a line per file, and a bar for a file that takes more than a second.
          const progress =
            opts.progress === true || (io.isTTY && !opts.json)
              ? createRunProgress(io, { bar: io.isTTY, columns: io.errColumns })
              : null;
          const result = await runEtl({
            config: ctx.config,
            layouts: ctx.layouts,
            store,
            trigger: 'cli',
            dryRun: opts.dryRun ?? false,
            force: opts.force ?? false,
            reread: opts.reread ?? false,
            overrideGuards: opts.overrideGuards ?? false,
            allowShrink: opts.allowShrink ?? false,
            ...(ctx.config.sourceDirectory ? { source: ctx.config.sourceDirectory } : {}),
            ...(opts.school ? { school: opts.school } : {}),
            ...(progress ? { onProgress: progress } : {}),
          });
          io.out(
            opts.json
              ? JSON.stringify(result, (k, v: unknown) => (k === 'raw' ? undefined : v), 2)
              : renderRun(result, outPalette(io)),
          );
          reportFailedDeliveries(io, result.notifications);
          io.setExitCode(runExitCode(result.status));
        } finally {
          await store.close();
        }
      },
    );
}
