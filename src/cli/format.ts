/** Plain-text tables and numbers for terminal output. */

export function formatCount(n: number): string {
  return n.toLocaleString('en-AU');
}

export function formatPercent(part: number, whole: number): string {
  if (whole === 0 || part === 0) return '0%';
  const p = (part / whole) * 100;
  return `${p < 0.01 && p > 0 ? '<0.01' : p.toFixed(p < 10 ? 2 : 1)}%`;
}

/** Left-aligns text columns and right-aligns columns whose header starts with '>'. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[], indent = '  '): string {
  const right = headers.map((h) => h.startsWith('>'));
  const heads = headers.map((h) => (h.startsWith('>') ? h.slice(1) : h));
  const widths = heads.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    indent +
    cells
      .map((c, i) => (right[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(heads), ...rows.map(line)].join('\n');
}

/** Whether a run's counts were applied: a failed or dry run only says what it would have done. */
export function countsApplied(r: { readonly status: string; readonly dryRun: boolean }): boolean {
  return r.status !== 'failed' && !r.dryRun;
}
