import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * What the CLI loads before it knows which command it runs. Every command pays for it, a
 * school's nightly `run` included, so the job runtime (BullMQ, ioredis, Fastify) and the pipeline
 * are imported by the commands that use them, when they run. Read from the sources' static
 * imports: an `import()` inside an action is not followed; a type-only import is erased.
 */

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'src');

/** The modules `entry` loads at once: our own files (relative to src) and packages. */
function staticGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    const rel = relative(SRC, file);
    if (files.has(rel)) return;
    files.add(rel);
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
    for (const statement of source.statements) {
      let specifier: ts.Expression | undefined;
      if (ts.isImportDeclaration(statement) && !statement.importClause?.isTypeOnly)
        specifier = statement.moduleSpecifier;
      if (ts.isExportDeclaration(statement) && !statement.isTypeOnly) specifier = statement.moduleSpecifier;
      if (!specifier || !ts.isStringLiteral(specifier)) continue;
      const name = specifier.text;
      if (name.startsWith('.')) visit(join(dirname(file), name.replace(/\.js$/, '.ts')));
      else if (!name.startsWith('node:'))
        packages.add(name.startsWith('@') ? name.split('/').slice(0, 2).join('/') : name.split('/')[0]!);
    }
  };
  visit(entry);
  return { files, packages };
}

describe('CLI start-up', () => {
  // main.ts answers `--version` alone and otherwise imports the command tree (program.ts): that
  // tree is what every command loads before it knows which one it runs.
  const graph = staticGraph(join(SRC, 'cli', 'program.ts'));

  it('answers --version from main.ts and version.ts alone', () => {
    const main = staticGraph(join(SRC, 'cli', 'main.ts'));
    expect([...main.files].sort()).toEqual([join('cli', 'main.ts'), 'version.ts']);
    expect([...main.packages]).toEqual([]);
    expect(readFileSync(join(SRC, 'cli', 'main.ts'), 'utf8')).toContain("await import('./program.js')");
  });

  it('follows the static imports it is meant to (so the checks below can fail)', () => {
    expect(graph.files).toContain(join('cli', 'commands', 'jobs.ts'));
    expect(graph.files).toContain(join('store', 'index.ts'));
    expect(graph.packages).toContain('commander');
  });

  it('loads no job runtime, HTTP server or pipeline before a command runs', () => {
    for (const pkg of ['bullmq', 'ioredis', 'fastify', 'pg', 'nodemailer', 'pino', 'prom-client'])
      expect(graph.packages, pkg).not.toContain(pkg);
    for (const file of [
      join('app', 'index.ts'),
      join('http', 'index.ts'),
      join('http', 'server.ts'),
      join('jobs', 'index.ts'),
      join('pipeline', 'index.ts'),
      join('generate', 'index.ts'),
    ]) {
      expect(graph.files, file).not.toContain(file);
    }
  });
});
