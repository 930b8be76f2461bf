import { readFile } from 'node:fs/promises';

import { describe, expect, it } from 'vitest';

import { runCli } from '../src/cli/program.js';
import {
  loadConfig,
  README_MARKERS,
  renderConfigurationDoc,
  renderReadmeTable,
  VARIABLES,
} from '../src/config/index.js';

const read = (path: string): Promise<string> => readFile(new URL(`../${path}`, import.meta.url), 'utf8');
const STALE = 'out of date with src/config/schema.ts: run `npm run docs:config`';

/** The README's `## Configuration` section, up to the next heading of its level. */
function configurationSection(readme: string): string {
  const start = readme.indexOf('\n## Configuration\n');
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start + 1, end < 0 ? undefined : end);
}

describe('configuration docs', () => {
  it('README.md has the generated table of the common variables, in a short Configuration section', async () => {
    const section = configurationSection(await read('README.md'));
    const start = section.indexOf(README_MARKERS.start);
    const end = section.indexOf(README_MARKERS.end);
    expect(start, 'markers in the Configuration section').toBeGreaterThanOrEqual(0);
    expect(end, 'markers in the Configuration section').toBeGreaterThan(start);
    const block = section.slice(start + README_MARKERS.start.length, end).trim();
    expect(block, `README.md's table is ${STALE}`).toBe(renderReadmeTable());
    expect(section).toContain('(docs/configuration.md)');
    expect(section.trimEnd().split('\n').length).toBeLessThanOrEqual(35);
  });

  it('docs/configuration.md is generated from the schema', async () => {
    expect(await read('docs/configuration.md'), `docs/configuration.md is ${STALE}`).toBe(renderConfigurationDoc());
  });

  it('cases-etl help config lists every variable with its default', async () => {
    let out = '';
    await runCli(['help', 'config'], {
      env: {},
      isTTY: false,
      outIsTTY: false,
      errColumns: 0,
      out: (t) => void (out += `${t}\n`),
      err: () => {},
      errRaw: () => {},
      setExitCode: () => {},
    });
    for (const v of VARIABLES) {
      const line = out.split('\n').find((l) => l.startsWith(`  ${v.name} `));
      expect(line, v.name).toBeDefined();
      expect(line, v.name).toContain(`(default ${v.default.replace(/`/g, '')})`);
    }
  });

  it('a documented default is the default: setting a variable to it changes nothing', () => {
    const unset = loadConfig({});
    const literal = VARIABLES.filter((v) => v.literal);
    // Most defaults are values; the rest ("(none)", computed ones) say what leaving the variable out does.
    expect(literal.length).toBeGreaterThan(25);
    for (const v of literal) {
      const set = loadConfig({ [v.name]: v.default });
      // Naming relationships.json makes a missing file an error: that is the one thing setting it changes.
      if (v.name === 'CASES_RELATIONSHIPS_JSON') expect(set.relationshipsExplicit).toBe(true);
      expect({ ...set, relationshipsExplicit: false }, v.name).toEqual(unset);
    }
  });
});
