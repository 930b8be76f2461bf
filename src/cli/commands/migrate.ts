import type { Command } from 'commander';

import { createStore } from '../../store/index.js';
import { loadCliContext, type CliIo } from '../context.js';

export function registerMigrate(program: Command, io: CliIo): void {
  program
    .command('migrate')
    .description('create or update the ledger tables (also done at the start of every command that needs them)')
    .action(async () => {
      const { config } = await loadCliContext(io);
      const store = await createStore(config.database, { lockTimeoutMs: config.lockTimeoutMs });
      try {
        const applied = await store.migrate();
        io.out(applied.length === 0 ? `${store.location}: up to date` : `${store.location}: applied ${applied.join(', ')}`);
      } finally {
        await store.close();
      }
    });
}
