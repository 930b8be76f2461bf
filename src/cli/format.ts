import picocolors from 'picocolors';

/** Tables, numbers and status colours for terminal output. */

/**
 * Whether output to a stream may be coloured: only a terminal, never when NO_COLOR has any value
 * (no-color.org) or the terminal says it is dumb. Piped or redirected output is always plain.
 */
export function colourEnabled(isTTY: boolean, env: Readonly<Record<string, string | undefined>>): boolean {
  return isTTY && !env.NO_COLOR && env.TERM !== 'dumb';
}

/** How a status reads at a glance. */
type Tone = 'good' | 'warn' | 'bad';

/** The statuses commands print, by their first word: run and file statuses, validate's, notify's. */
const TONES: Readonly<Record<string, Tone>> = {
  succeeded: 'good',
  ok: 'good',
  sent: 'good',
  warning: 'warn',
  skipped: 'warn',
  rejects: 'warn',
  rolled_back: 'warn',
  failed: 'bad',
  FAILED: 'bad',
  unreadable: 'bad',
};

/** Colours for one stream; every function returns its text unchanged when colour is off. */
export interface Palette {
  readonly enabled: boolean;
  /** A status in its colour: green succeeded/ok, amber warning/skipped, red failed; other words as they are. */
  status(text: string): string;
  dim(text: string): string;
}

export function makePalette(enabled: boolean): Palette {
  const c = picocolors.createColors(enabled);
  const paint: Record<Tone, (text: string) => string> = { good: c.green, warn: c.yellow, bad: c.red };
  return {
    enabled,
    status: (text) => {
      const tone = TONES[text.split(/[\s:]/, 1)[0] ?? ''];
      return tone ? paint[tone](text) : text;
    },
    dim: c.dim,
  };
}

/** No colour: JSON, pipes, files, NO_COLOR. */
export const PLAIN: Palette = makePalette(false);

export function formatCount(n: number): string {
  return n.toLocaleString('en-AU');
}

export function formatPercent(part: number, whole: number): string {
  if (whole === 0 || part === 0) return '0%';
  const p = (part / whole) * 100;
  return `${p < 0.01 && p > 0 ? '<0.01' : p.toFixed(p < 10 ? 2 : 1)}%`;
}

/**
 * Left-aligns text columns and right-aligns columns whose header starts with '>'. `paint` colours
 * a column's cells (not its header); widths are measured on the plain text.
 */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  indent = '  ',
  paint: { readonly [column: number]: (cell: string) => string } = {},
): string {
  const right = headers.map((h) => h.startsWith('>'));
  const heads = headers.map((h) => (h.startsWith('>') ? h.slice(1) : h));
  const widths = heads.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[], painted: boolean): string =>
    indent +
    cells
      .map((c, i) => {
        const pad = ' '.repeat(Math.max(0, (widths[i] ?? 0) - c.length));
        const shown = painted ? (paint[i]?.(c) ?? c) : c;
        return right[i] ? pad + shown : shown + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(heads, false), ...rows.map((r) => line(r, true))].join('\n');
}

/** Whether a run's counts were applied: a failed or dry run only says what it would have done. */
export function countsApplied(r: { readonly status: string; readonly dryRun: boolean }): boolean {
  return r.status !== 'failed' && !r.dryRun;
}
