import { readFile } from 'node:fs/promises';

import { describe, expect, it } from 'vitest';

import { behaviourOf, ERROR_CATALOGUE, type ErrorCode } from '../src/errors/index.js';

describe('docs/errors.md', () => {
  it('documents exactly the codes in the catalogue, with their titles, fixes and behaviour', async () => {
    const doc = await readFile(new URL('../docs/errors.md', import.meta.url), 'utf8');
    const documented = [...doc.matchAll(/^### (ETL_[A-Z0-9_]+)$/gm)].map((m) => m[1]);
    expect(documented).toEqual(Object.keys(ERROR_CATALOGUE));
    for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) {
      const section = doc.slice(doc.indexOf(`### ${code}\n`)).split(/\n### /)[0] ?? '';
      expect(section, code).toContain(`${entry.title}.`);
      expect(section, code).toContain(`**Fix:** ${entry.fix}`);
      const b = behaviourOf(code as ErrorCode);
      expect(section, code).toContain(
        `Exit ${b.exit} · HTTP ${b.http} · ${b.retry ? 'a job retries it' : 'not retried'}.`,
      );
    }
  });
});
