// Copies each store's numbered migration files (src/store/<db>/migrations/*.sql) beside the
// compiled code in dist, which reads them at start-up: part of `npm run build`.
import { cp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
for (const db of await readdir(join(root, 'src/store'), { withFileTypes: true })) {
  if (!db.isDirectory()) continue;
  const from = join(root, 'src/store', db.name, 'migrations');
  const to = join(root, 'dist/store', db.name, 'migrations');
  const files = await readdir(from).catch(() => null);
  if (files === null) continue;
  await rm(to, { recursive: true, force: true });
  await cp(from, to, { recursive: true, filter: (src) => src === from || src.endsWith('.sql') });
}
