import type { Command } from 'commander';

import { EtlError } from '../../errors/index.js';
import { createStore } from '../../store/index.js';
import { loadCliContext, type CliIo } from '../context.js';
import { formatCount, formatTable } from '../format.js';

export function registerRuns(program: Command, io: CliIo): void {
  program
    .command('runs')
    .description('list the run ledger, newest first')
    .option('--limit <n>', 'how many runs', '20')
    .option('--school <id>', 'only this school')
    .option('--json', 'print as JSON')
    .action(async (opts: { limit: string; school?: string; json?: boolean }) => {
      if (!/^\d+$/.test(opts.limit) || Number(opts.limit) < 1) throw new EtlError('ETL_USAGE', `--limit must be a whole number of 1 or more, not ${JSON.stringify(opts.limit)}`);
      const { config } = await loadCliContext(io);
      const store = await createStore(config.database, { lockTimeoutMs: config.lockTimeoutMs });
      try {
        await store.migrate();
        const runs = await store.listRuns({ school: opts.school ?? null, limit: Number(opts.limit) });
        if (opts.json) {
          io.out(JSON.stringify(runs, null, 2));
          return;
        }
        if (runs.length === 0) {
          io.out(`No runs yet in ${store.location}.`);
          return;
        }
        io.out(
          formatTable(
            ['RUN', 'SCHOOL', 'STATUS', 'TRIGGER', 'STARTED', '>SECONDS', '>ROWS', '>INSERTED', '>UPDATED', '>DEACTIVATED', '>REJECTED', 'REASON'],
            runs.map((r) => [
              String(r.id),
              r.school,
              r.status + (r.dryRun ? ' (dry)' : ''),
              r.trigger,
              r.startedAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
              r.durationMs === null ? '' : (r.durationMs / 1000).toFixed(1),
              formatCount(r.rows),
              formatCount(r.inserted),
              formatCount(r.updated),
              formatCount(r.deactivated),
              formatCount(r.rejected),
              (r.reason ?? '').slice(0, 80),
            ]),
          ),
        );
      } finally {
        await store.close();
      }
    });
}
