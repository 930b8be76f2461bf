import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { MIGRATIONS as PG_MIGRATIONS } from '../src/store/postgres/ledger.js';
import { MIGRATIONS as SQLITE_MIGRATIONS } from '../src/store/sqlite/ledger.js';

/**
 * The two adapters mirror each other, as a dialect folder does: the same files, each doing the
 * same part (index: the store; ledger; mirror: DDL; digest; writer: applies the merge plan;
 * undo; rekey; errors; sql; views and comments: the friendly views and what their columns mean;
 * migrations/NNN_name.sql), so a change to one shows where the other needs it. PostgreSQL's
 * COPY helpers live in a folder of their own.
 */

const storeDir = (db: string): string => fileURLToPath(new URL(`../src/store/${db}/`, import.meta.url));

async function filesOf(db: string): Promise<string[]> {
  const entries = await readdir(storeDir(db), { withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => e.name)
    .sort();
}

describe('store adapters', () => {
  it('have the same files', async () => {
    const [lite, pg] = await Promise.all([filesOf('sqlite'), filesOf('postgres')]);
    expect(lite).toEqual(pg);
    for (const part of ['index', 'ledger', 'mirror', 'digest', 'writer', 'undo', 'errors'])
      expect(lite, part).toContain(`${part}.ts`);
  });

  it('read their migrations from numbered .sql files, numbered without gaps', () => {
    for (const migrations of [SQLITE_MIGRATIONS, PG_MIGRATIONS]) {
      expect(migrations.length).toBeGreaterThan(0);
      migrations.forEach((m, i) => {
        expect(m.version).toBe(i + 1);
        expect(m.name).toMatch(new RegExp(`^${String(i + 1).padStart(3, '0')}_[a-z0-9_]+$`));
        expect(m.sql.trim().length).toBeGreaterThan(0);
      });
    }
  });
});
