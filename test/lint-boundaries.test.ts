import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ESLint } from 'eslint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The boundary rules of `npm run lint` (no import cycles, no `export *`), run with the project's
 * own eslint.config.js on a few files made to break them. The cycle rule says nothing at all when
 * its resolver or parser settings are wrong, so a clean lint alone cannot show it is working.
 */

const CONFIG = fileURLToPath(new URL('../eslint.config.js', import.meta.url));

describe('lint boundaries', () => {
  let dir: string;
  let eslint: ESLint;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lint-boundaries-'));
    await mkdir(join(dir, 'src', 'a'), { recursive: true });
    await mkdir(join(dir, 'src', 'b'), { recursive: true });
    // a → b statically, b → a through a dynamic import: still a cycle.
    await writeFile(join(dir, 'src', 'a', 'index.ts'), "import { b } from '../b/index.js';\nexport const a = b + 1;\n");
    await writeFile(
      join(dir, 'src', 'b', 'index.ts'),
      "export const b = 1;\nexport const later = async (): Promise<number> => (await import('../a/index.js')).a;\n",
    );
    // A type-only import back is erased at run time: no cycle.
    await writeFile(join(dir, 'src', 'c.ts'), "import { d } from './d.js';\nexport const c = d;\n");
    await writeFile(
      join(dir, 'src', 'd.ts'),
      "import type { c } from './c.js';\nexport const d = 1;\nexport type C = typeof c;\n",
    );
    await writeFile(join(dir, 'src', 'e.ts'), "export * from './d.js';\n");
    eslint = new ESLint({ cwd: dir, overrideConfigFile: CONFIG });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const problems = async (file: string): Promise<string[]> => {
    const [result] = await eslint.lintFiles([join(dir, 'src', file)]);
    return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
  };

  it('fails an import cycle, a dynamic import included', async () => {
    expect(await problems(join('a', 'index.ts'))).toEqual([expect.stringMatching(/^import-x\/no-cycle: /)]);
    expect(await problems(join('b', 'index.ts'))).toEqual([expect.stringMatching(/^import-x\/no-cycle: /)]);
  });

  it('lets a type-only import back through', async () => {
    expect(await problems('c.ts')).toEqual([]);
    expect(await problems('d.ts')).toEqual([]);
  });

  it('fails export *', async () => {
    expect(await problems('e.ts')).toEqual([
      expect.stringMatching(/^no-restricted-syntax: Name what a module exports/),
    ]);
  });

  // Checked as if written in the project's own folders, against its real files.
  const inProject = async (file: string, code: string): Promise<string[]> => {
    const project = new ESLint({ cwd: fileURLToPath(new URL('..', import.meta.url)), overrideConfigFile: CONFIG });
    const [result] = await project.lintText(code, {
      filePath: fileURLToPath(new URL(`../src/${file}`, import.meta.url)),
    });
    return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
  };

  it('fails an import from a lower layer to a higher one, and lets the other way through', async () => {
    const upward = "import { loadFile } from '../pipeline/index.js';\nexport const f = loadFile;\n";
    expect(await inProject('store/probe.ts', upward)).toEqual([
      expect.stringMatching(/^import-x\/no-restricted-paths: .*store is below/),
    ]);
    expect(
      await inProject(
        'plan/probe.ts',
        "import { createStore } from '../store/index.js';\nexport const s = createStore;\n",
      ),
    ).toEqual([expect.stringMatching(/^import-x\/no-restricted-paths: /)]);
    expect(await inProject('jobs/probe.ts', upward)).toEqual([]);
  });

  it("fails a deep import into another folder, and lets its index and one's own files through", async () => {
    expect(
      await inProject(
        'pipeline/probe.ts',
        "import { withRetry } from '../util/retry.js';\nexport const r = withRetry;\n",
      ),
    ).toEqual([expect.stringMatching(/^no-restricted-imports: .*through its index\.js/)]);
    expect(
      await inProject(
        'pipeline/probe.ts',
        "import { withRetry } from '../util/index.js';\nexport const r = withRetry;\n",
      ),
    ).toEqual([]);
    expect(
      await inProject(
        'pipeline/probe.ts',
        "import { checksumFiles } from './checksums.js';\nexport const c = checksumFiles;\n",
      ),
    ).toEqual([]);
  });
});
