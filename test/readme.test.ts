import { access, readdir, readFile } from 'node:fs/promises';

import { describe, expect, it } from 'vitest';

import { VARIABLES } from '../src/config/index.js';

describe('README', () => {
  it('documents every environment variable the configuration reads, with its default', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const full = await readFile(new URL('../docs/configuration.md', import.meta.url), 'utf8');
    const rowOf = (doc: string, name: string): string | undefined =>
      doc.split('\n').find((line) => line.startsWith(`| \`${name}\``));
    // All of them in docs/configuration.md; the common ones in the README's table too.
    expect(VARIABLES.filter((v) => v.common).length).toBeGreaterThan(10);
    for (const v of VARIABLES) {
      const places: Array<[string, string]> = [['docs/configuration.md', full]];
      if (v.common) places.push(['README.md', readme]);
      for (const [where, doc] of places) {
        const row = rowOf(doc, v.name);
        expect(row, `${v.name} in ${where}`).toBeDefined();
        expect(row?.replace(/`/g, ''), `${v.name} in ${where}`).toContain(`| ${v.default.replace(/`/g, '')} |`);
      }
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

  it('has a table of contents that links every section', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const sections = readme.split('\n').filter((line) => line.startsWith('## '));
    expect(sections.length).toBeGreaterThan(5);
    for (const heading of sections) {
      const slug = heading
        .slice(3)
        .trim()
        .toLowerCase()
        .replace(/[^a-z0-9 -]/g, '')
        .replace(/ /g, '-');
      expect(readme, heading).toContain(`](#${slug})`);
    }
  });

  it('links only files that exist, from the README and from docs/', async () => {
    // The README is short because its detail lives in docs/*.md: a moved or renamed page must not leave a dead link.
    const docs = (await readdir(new URL('../docs/', import.meta.url))).filter((name) => name.endsWith('.md'));
    for (const page of ['README.md', 'CHANGELOG.md', ...docs.map((name) => `docs/${name}`)]) {
      const url = new URL(`../${page}`, import.meta.url);
      const text = await readFile(url, 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        if (target === undefined || /^[a-z]+:/.test(target)) continue;
        await expect(
          access(new URL(target, url)).then(() => true),
          `${page} → ${target}`,
        ).resolves.toBe(true);
      }
    }
  });
});
