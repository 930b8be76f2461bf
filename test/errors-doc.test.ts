import { readFile } from 'node:fs/promises';

import { describe, expect, it } from 'vitest';

import { ERROR_CATALOGUE } from '../src/errors/index.js';

describe('docs/errors.md', () => {
  it('documents exactly the codes in the catalogue, with their titles and fixes', async () => {
    const doc = await readFile(new URL('../docs/errors.md', import.meta.url), 'utf8');
    const documented = [...doc.matchAll(/^### (ETL_[A-Z0-9_]+)$/gm)].map((m) => m[1]);
    expect(documented).toEqual(Object.keys(ERROR_CATALOGUE));
    for (const [code, entry] of Object.entries(ERROR_CATALOGUE)) {
      const section = doc.slice(doc.indexOf(`### ${code}\n`)).split(/\n### /)[0] ?? '';
      expect(section, code).toContain(`${entry.title}.`);
      expect(section, code).toContain(`**Fix:** ${entry.fix}`);
    }
  });
});
