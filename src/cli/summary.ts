import type { EtlResult, RunReport, SchoolRunResult } from '../pipeline/index.js';
import { countsApplied, formatCount, formatPercent, formatTable, PLAIN, type Palette } from './format.js';

/**
 * What a finished run prints, and the exit code it ends with: `run` and `trigger --wait` (which
 * waits for a worker's run of the same school) show one summary and end the same way.
 */

/** One school's run: its status line, a row per file, guard rails, totals and what was left undone. */
function renderSchool(r: SchoolRunResult, palette: Palette): string {
  const lines = [
    `School ${r.school}: run ${r.runId} ${palette.status(r.status)}${r.dryRun ? ' (dry run: nothing published)' : ''}${r.reason ? ` — ${r.reason}` : ''}`,
  ];
  if (r.tables.length > 0) {
    const applied = countsApplied(r);
    if (!applied) lines.push('  Nothing was published: the counts say what the run would have done.');
    const heads = applied
      ? ['>INSERTED', '>UPDATED', '>DEACTIVATED', '>REACTIVATED', '>UNCHANGED', '>HELD', '>DEFERRED']
      : [
          '>WOULD INSERT',
          '>WOULD UPDATE',
          '>WOULD DEACTIVATE',
          '>WOULD REACTIVATE',
          '>UNCHANGED',
          '>HELD',
          '>DEFERRED',
        ];
    lines.push(
      formatTable(
        ['FILE', 'TABLE', 'MODE', ...heads, '>REJECTED'],
        r.tables.map((t) => [
          t.file,
          t.table,
          t.mode,
          ...[t.inserted, t.updated, t.deactivated, t.reactivated, t.unchanged, t.held, t.deferred].map(formatCount),
          t.error ? 'unreadable' : formatCount(t.rejected),
        ]),
        '  ',
        { [heads.length + 3]: palette.status },
      ),
    );
  }
  for (const g of r.guards) lines.push(`  guard ${g.code}${g.overridden ? ' (overridden)' : ''}: ${g.message}`);
  for (const t of r.tables.filter((t) => t.error)) lines.push(`  ${t.file}: ${t.error}`);
  const s = r.stats;
  if (r.status !== 'skipped') {
    lines.push(
      `  ${formatCount(s.rows)} rows from ${s.files} files, ${formatCount(s.rejected)} rejected (${formatPercent(s.rejected, s.records)}), in ${(s.durationMs / 1000).toFixed(1)} s`,
    );
  }
  const repeated = r.tables.filter((t) => t.unchangedSince !== null);
  if (repeated.length > 0) {
    const runs = [...new Set(repeated.map((t) => t.unchangedSince))];
    const which = repeated.length === r.tables.length ? 'every file' : repeated.map((t) => t.file).join(', ');
    const since = runs.length === 1 ? `run ${runs[0]}` : `runs ${runs.join(', ')}`;
    lines.push(
      `  ${which}: the same bytes, read the same way, as the table's last load (${since}): not read again, every row unchanged`,
    );
  }
  if (s.held > 0)
    lines.push(
      `  ${formatCount(s.held)} rejected rows held: their stored rows keep their last published values and state`,
    );
  if (s.deferred > 0)
    lines.push(
      `  ${formatCount(s.deferred)} deactivations deferred to the next clean night: rejected rows had no readable key`,
    );
  if (r.archivePath) lines.push(`  archived to ${r.archivePath}`);
  // Archive problems come after publishing, so no table row or guard shows them: `archive failed: …`, `archive: X …`.
  for (const e of r.errors.filter((e) => e.startsWith('archive'))) lines.push(`  ${e}`);
  return lines.join('\n');
}

/** Every school's run, then the notices about the folder (or why nothing ran); statuses coloured by `palette`. */
export function renderRun(result: RunReport, palette: Palette = PLAIN): string {
  const out = result.runs.map((r) => renderSchool(r, palette));
  for (const n of result.notices) out.push(`${n.severity} ${n.code}${n.file ? ` ${n.file}` : ''}: ${n.message}`);
  if (result.runs.length === 0) out.push(...result.errors);
  return out.join('\n\n');
}

/** A run's exit code: 1 when it failed (nothing was published), 0 when it published, was skipped or was a dry run. */
export function runExitCode(status: EtlResult['status']): 0 | 1 {
  return status === 'failed' ? 1 : 0;
}
