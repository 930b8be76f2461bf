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

  it('shows the latest benchmark ratios, each with its value from bench/results/latest.json', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const latest = JSON.parse(await readFile(new URL('../bench/results/latest.json', import.meta.url), 'utf8')) as Record<string, unknown> & { targets: Record<string, unknown> };
    const required = ['pg_first_load_vs_copy', 'pg_unchanged_rerun_vs_copy', 'pg_5pct_changed_vs_copy', 'sqlite_first_load_vs_raw_insert', 'parse_validate_vs_raw_parse', 'fixed_width_pg_vs_pgloader', 'two_workers_vs_one', 'peak_rss_mb_1m', 'rss_growth_mb_100k_to_1m'];
    for (const key of required) {
      const value = latest[key];
      expect(typeof value, key).toBe('number');
      expect(latest.targets[key], key).toBeDefined();
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${key}\` |`));
      expect(row, key).toBeDefined();
      expect(row, key).toContain(`| ${(value as number).toFixed(2)} |`);
    }
  });
});
