import { readFile } from 'node:fs/promises';

import { describe, expect, it } from 'vitest';

import { VARIABLES } from '../src/config/index.js';

describe('README', () => {
  it('documents every environment variable the configuration reads, with its default', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    for (const v of VARIABLES) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${v.name}\``));
      expect(row, v.name).toBeDefined();
      expect(row?.replace(/`/g, ''), v.name).toContain(`| ${v.default} |`);
    }
  });

  it('gives the two set-up commands, and the test command is the one CI runs', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const ci = await readFile(new URL('../.ci/run', import.meta.url), 'utf8');
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toMatch(/^npm test\b/m);
    expect(ci).toMatch(/^npm test$/m);
  });

  it('points at the benchmark notes, which explain every targeted ratio (figures may move on)', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const notes = await readFile(new URL('../bench/README.md', import.meta.url), 'utf8');
    const latest = JSON.parse(await readFile(new URL('../bench/results/latest.json', import.meta.url), 'utf8')) as {
      targets: Record<string, unknown>;
    };
    expect(readme).toContain('[bench/README.md](bench/README.md)');
    // Keys, not values: a new `npm run bench` writes new figures, and that must not fail the tests.
    for (const key of Object.keys(latest.targets)) expect(notes, key).toContain(`\`${key}\``);
  });
});
