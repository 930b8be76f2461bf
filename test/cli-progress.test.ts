import { cp, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { BAR_AFTER_MS, createRunProgress } from '../src/cli/progress.js';
import { loadConfig } from '../src/config/index.js';
import { generateSchool } from '../src/generate/index.js';
import { loadBuiltinLayouts, type TableLayout } from '../src/layouts/index.js';
import { runEtl, type ProgressEvent } from '../src/pipeline/index.js';
import { createValidatedFileReader } from '../src/validate/index.js';
import { fixture, sourceFile, tempDir } from './helpers/fixtures.js';
import { memoryIo } from './helpers/io.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(() => cleanup());

const file = { school: '8865', file: 'ST_8865.csv', table: 'ST', index: 2, total: 16 } as const;
const read = (records: number, bytesRead: number, bytes = 1000): ProgressEvent => ({
  kind: 'file-read',
  ...file,
  records,
  bytesRead,
  bytes,
});
const done: ProgressEvent = { kind: 'file-done', ...file, rows: 3000, rejected: 2 };

/** Feeds `events` at the given clock times (ms) to a run's progress on `io`. */
function feed(
  io: ReturnType<typeof memoryIo>['io'],
  options: { bar: boolean; columns?: number },
  events: ReadonlyArray<readonly [number, ProgressEvent]>,
): void {
  let clock = 0;
  const progress = createRunProgress(io, { ...options, now: () => clock });
  for (const [at, e] of events) {
    clock = at;
    progress(e);
  }
}

describe("run's progress on stderr", () => {
  it('draws a bar with rows per second in place once a file has taken a second, then clears it for the line', () => {
    const { io, stderr } = memoryIo({ isTTY: true, env: { NO_COLOR: '1' } });
    feed(io, { bar: true }, [
      [0, { kind: 'file-start', ...file }],
      // Rows per second count from the first read, not from the lookups before it.
      [200, read(0, 0)],
      [BAR_AFTER_MS - 1, read(500, 100)],
      [2200, read(3000, 500)],
      [4000, done],
    ]);
    const text = stderr();
    // Nothing before the first second; then one bar, blanked out, then the file's line.
    const [bar, blank, line] = text.split('\r').filter(Boolean);
    expect(bar).toBe(`[3/16] ST_8865.csv ${'█'.repeat(15)}${'░'.repeat(15)}  50%  3,000 rows  1,500 rows/s`);
    expect(blank?.trim()).toBe('');
    expect(blank).toHaveLength(bar?.length ?? 0);
    expect(line).toBe('[3/16] ST_8865.csv: 3,000 rows, 2 rejected in 4.0 s\n');
    expect(text).not.toContain('\u001b');
  });

  it('fits the bar to the terminal, one column short of its edge', () => {
    const { io, stderr } = memoryIo({ isTTY: true });
    feed(io, { bar: true, columns: 70 }, [
      [0, { kind: 'file-start', ...file }],
      [1500, read(1_000_000, 250, 1000)],
    ]);
    // eslint-disable-next-line no-control-regex
    const shown = stderr().replace(/\u001b\[[0-9;]*m/g, '');
    expect(shown.length - 1).toBeLessThanOrEqual(69);
    expect(shown).toContain(' 25%  1,000,000 rows');
  });

  it('prints lines only, never a carriage return, when stderr is not a terminal (--progress into a file)', () => {
    const { io, stderr, err } = memoryIo({ isTTY: false });
    feed(io, { bar: false }, [
      [0, { kind: 'file-start', ...file }],
      [2000, read(3000, 500)],
      [4000, done],
    ]);
    expect(err).toEqual(['[3/16] ST_8865.csv: 3,000 rows, 2 rejected']);
    expect(stderr()).not.toContain('\r');
  });

  it('colours the bar on a terminal unless NO_COLOR is set', () => {
    const coloured = memoryIo({ isTTY: true, env: {} });
    const plain = memoryIo({ isTTY: true, env: { NO_COLOR: 'yes' } });
    for (const { io } of [coloured, plain])
      feed(io, { bar: true }, [
        [0, { kind: 'file-start', ...file }],
        [1500, read(10, 100)],
      ]);
    expect(coloured.stderr()).toContain('\u001b[');
    expect(plain.stderr()).not.toContain('\u001b');
  });
});

describe('the progress a run reports', () => {
  it("tells how far through each file it has read, ending at the file's size", async () => {
    const ST = loadBuiltinLayouts().get('ST') as TableLayout;
    await generateSchool({ outDir: dir, school: '8865', students: 3000, seed: 3, format: 'eduhub' });
    const path = join(dir, 'ST_8865.csv');
    const size = (await stat(path)).size;
    expect(size).toBeGreaterThan(4 * 65536);
    const seen: number[] = [];
    for await (const batch of createValidatedFileReader(sourceFile(path, ST)).batches()) seen.push(batch.bytesRead);
    expect(seen.length).toBeGreaterThan(4);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.at(-1)).toBe(size);
  });

  it('runEtl sends file-read events for each file it reads, the last at its full size', async () => {
    const src = join(dir, 'export');
    await cp(fixture('..', '..', 'examples', '8865'), src, { recursive: true });
    const events: ProgressEvent[] = [];
    const config = loadConfig({
      CASES_DIRECTORY: src,
      DATABASE_URL: `sqlite:${join(dir, 'progress.db')}`,
      ETL_FILE_STABLE_MS: '0',
    });
    const result = await runEtl({ config, onProgress: (e) => events.push(e) });
    expect(result.status).toBe('succeeded');
    const reads = events.filter((e) => e.kind === 'file-read');
    const files = new Set(reads.map((e) => e.file));
    expect(files.size).toBe(16);
    for (const name of files) {
      const last = reads.filter((e) => e.file === name).at(-1);
      expect(last?.bytesRead, name).toBe(last?.bytes);
      expect(last?.bytes, name).toBe((await stat(join(src, name))).size);
    }
  });
});
