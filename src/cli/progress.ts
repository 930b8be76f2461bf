import type { ProgressEvent } from '../pipeline/index.js';
import type { CliIo } from './context.js';
import { colourEnabled, formatCount, makePalette } from './format.js';

/**
 * `run`'s progress on stderr: a line per file when it is done (and how far a big file's
 * deactivations have got), and, on a terminal, a bar with rows per second for a file that takes
 * more than a second. The bar is redrawn in place with a carriage return and spaces only: no
 * cursor escape codes, so NO_COLOR leaves a terminal's stderr free of escape codes too.
 */

/** A file is given a bar once it has taken this long (ms): most files are done before anyone could read one. */
export const BAR_AFTER_MS = 1000;
/** Redraws at most this often (ms). */
const REDRAW_MS = 100;
/** Cells of the bar at most and at least (below that the bar is left out). */
const BAR_CELLS = { max: 30, min: 8 } as const;

export interface RunProgressOptions {
  /** Draw the bar (a terminal); otherwise lines only (`--progress` into a pipe or file). */
  readonly bar: boolean;
  /** The terminal's width in characters (0: unknown): a line wider than that would wrap and not redraw in place. */
  readonly columns?: number;
  /** The clock, in ms; tests pass their own. */
  readonly now?: () => number;
}

/** A bar of `cells` characters, `fraction` (0–1) of them filled. */
export function progressBar(fraction: number, cells: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * cells);
  return `${'█'.repeat(filled)}${'░'.repeat(cells - filled)}`;
}

/** The progress listener of one `run`: give it to runEtl as onProgress. */
export function createRunProgress(
  io: Pick<CliIo, 'err' | 'errRaw' | 'env' | 'isTTY'>,
  options: RunProgressOptions,
): (event: ProgressEvent) => void {
  const now = options.now ?? (() => performance.now());
  const columns = options.columns ?? 0;
  const palette = makePalette(options.bar && colourEnabled(io.isTTY, io.env));
  let started = 0;
  /** The file's first read (ms, records): rows per second count from it, not the checksum and lookups before. */
  let firstRead: { at: number; records: number } | null = null;
  let drawnAt = -Infinity;
  /** Characters of the bar now on screen (0: none), to blank it out. */
  let shown = 0;

  const clear = (): void => {
    if (shown === 0) return;
    io.errRaw(`\r${' '.repeat(shown)}\r`);
    shown = 0;
  };
  const perSecond = (records: number, at: number): number =>
    firstRead !== null && at > firstRead.at
      ? Math.round((records - firstRead.records) / ((at - firstRead.at) / 1000))
      : 0;

  return (e) => {
    const at = now();
    if (e.kind === 'file-start') {
      started = at;
      firstRead = null;
      drawnAt = -Infinity;
      return;
    }
    if (e.kind === 'file-read') {
      firstRead ??= { at, records: e.records };
      if (!options.bar || at - started < BAR_AFTER_MS || at - drawnAt < REDRAW_MS) return;
      drawnAt = at;
      const fraction = e.bytes > 0 ? e.bytesRead / e.bytes : 0;
      const head = `[${e.index + 1}/${e.total}] ${e.file} `;
      const tail = ` ${String(Math.floor(fraction * 100)).padStart(3)}%  ${formatCount(e.records)} rows  ${formatCount(perSecond(e.records, at))} rows/s`;
      // One character short of the edge: a line that reaches it wraps on some terminals.
      const room = columns > 0 ? columns - 1 : head.length + BAR_CELLS.max + tail.length;
      const cells = Math.min(BAR_CELLS.max, room - head.length - tail.length);
      const line = cells >= BAR_CELLS.min ? null : `${head}${tail.trimStart()}`.slice(0, room);
      const width = line === null ? head.length + cells + tail.length : line.length;
      const text = line ?? `${head}${palette.dim(progressBar(fraction, cells))}${tail}`;
      io.errRaw(`\r${text}${' '.repeat(Math.max(0, shown - width))}`);
      shown = width;
      return;
    }
    if (e.kind === 'file-done') {
      const slow = options.bar && at - started >= BAR_AFTER_MS;
      clear();
      io.err(
        `[${e.index + 1}/${e.total}] ${e.file}: ${formatCount(e.rows)} rows${e.rejected > 0 ? `, ${formatCount(e.rejected)} rejected` : ''}` +
          (slow ? ` in ${((at - started) / 1000).toFixed(1)} s` : ''),
      );
      return;
    }
    // Every tenth of a big file's deactivations, so it is seen moving.
    if (
      e.kind === 'file-deactivate' &&
      (e.done === e.total ||
        e.done === 0 ||
        Math.floor((e.done * 10) / e.total) !== Math.floor(((e.done - 1000) * 10) / e.total))
    ) {
      clear();
      io.err(
        `    ${e.file}: marking inactive ${formatCount(e.done)} of ${formatCount(e.total)} rows missing from the file`,
      );
    }
  };
}
