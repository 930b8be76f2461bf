import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One ledger schema migration: `migrations/NNN_name.sql` of a store, applied once, in version order. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/**
 * A store's migrations, read from its `migrations` folder (copied beside the compiled code by
 * `npm run build`). Numbered files only, numbered 1, 2, 3… without gaps, so that a file lost from
 * a build fails at start-up rather than skipping a change.
 */
export function readMigrations(folder: URL): readonly Migration[] {
  const dir = fileURLToPath(folder);
  const migrations = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((file, i) => {
      const match = /^(\d{3})_([a-z0-9_]+)\.sql$/.exec(file);
      if (!match || Number(match[1]) !== i + 1)
        throw new Error(`${dir}: migration ${file} is not numbered ${String(i + 1).padStart(3, '0')}_<name>.sql`);
      return { version: i + 1, name: file.slice(0, -4), sql: readFileSync(`${dir}/${file}`, 'utf8') };
    });
  if (migrations.length === 0) throw new Error(`${dir}: no migrations`);
  return Object.freeze(migrations);
}
