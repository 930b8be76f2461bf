import type { Command } from 'commander';

import type { EtlResult, ProgressEvent, SchoolRunResult } from '../../pipeline/index.js';
import { createStore } from '../../store/index.js';
import { loadCliContext, type CliIo } from '../context.js';
import { countsApplied, formatCount, formatPercent, formatTable } from '../format.js';
import { reportFailedDeliveries } from './notify.js';

function renderSchool(r: SchoolRunResult): string {
  const lines = [
    `School ${r.school}: run ${r.runId} ${r.status}${r.dryRun ? ' (dry run: nothing published)' : ''}${r.reason ? ` — ${r.reason}` : ''}`,
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

/** One progress line on stderr: a file read, or how far its deactivations have got (every tenth, so a big one is seen moving). */
function progressLine(e: ProgressEvent, io: CliIo): void {
  if (e.kind === 'file-done')
    io.err(
      `[${e.index + 1}/${e.total}] ${e.file}: ${formatCount(e.rows)} rows${e.rejected > 0 ? `, ${formatCount(e.rejected)} rejected` : ''}`,
    );
  if (
    e.kind === 'file-deactivate' &&
    (e.done === e.total ||
      e.done === 0 ||
      Math.floor((e.done * 10) / e.total) !== Math.floor(((e.done - 1000) * 10) / e.total))
  ) {
    io.err(
      `    ${e.file}: marking inactive ${formatCount(e.done)} of ${formatCount(e.total)} rows missing from the file`,
    );
  }
}

export function renderRun(result: EtlResult): string {
  const out = result.runs.map(renderSchool);
  for (const n of result.notices) out.push(`${n.severity} ${n.code}${n.file ? ` ${n.file}` : ''}: ${n.message}`);
  if (result.runs.length === 0) out.push(...result.errors);
  return out.join('\n\n');
}

export function registerRun(program: Command, io: CliIo): void {
  program
    .command('run')
    .description('load the export folder into the database now: all or nothing per school')
    .option('--source <dir>', 'export folder (default: CASES_DIRECTORY)')
    .option('--school <id>', 'only this school; also the school id of fixed-width files')
    .option('--dry-run', 'do everything but publish: report what would change')
    .option('--force', 'load the file set even if it is the one the school last published (recorded)')
    .option(
      '--reread',
      'read every line of every file, even those already loaded: rows deleted or deactivated by hand come back (implies --force; recorded)',
    )
    .option(
      '--override-guards',
      'publish even if a guard rail trips: rejects over the limit, a missing or unreadable file (recorded)',
    )
    .option('--allow-shrink', 'override the shrink and empty-file guard rails for this run (recorded)')
    .option('--json', 'print the result as JSON')
    .option('--progress', 'print a progress line per file on stderr even when it is not a terminal')
    .action(
      async (opts: {
        source?: string;
        school?: string;
        dryRun?: boolean;
        force?: boolean;
        reread?: boolean;
        overrideGuards?: boolean;
        allowShrink?: boolean;
        json?: boolean;
        progress?: boolean;
      }) => {
        const ctx = await loadCliContext(io, { sourceDirectory: opts.source, schoolId: opts.school });
        const { runEtl } = await import('../../pipeline/index.js');
        const store = await createStore(ctx.config.database, { lockTimeoutMs: ctx.config.lockTimeoutMs });
        try {
          await store.migrate();
          const progress = opts.progress === true || (io.isTTY && !opts.json);
          const result = await runEtl({
            config: ctx.config,
            layouts: ctx.layouts,
            store,
            trigger: 'cli',
            dryRun: opts.dryRun ?? false,
            force: opts.force ?? false,
            reread: opts.reread ?? false,
            overrideGuards: opts.overrideGuards ?? false,
            allowShrink: opts.allowShrink ?? false,
            ...(ctx.config.sourceDirectory ? { source: ctx.config.sourceDirectory } : {}),
            ...(opts.school ? { school: opts.school } : {}),
            ...(progress ? { onProgress: (e) => progressLine(e, io) } : {}),
          });
          io.out(
            opts.json ? JSON.stringify(result, (k, v: unknown) => (k === 'raw' ? undefined : v), 2) : renderRun(result),
          );
          reportFailedDeliveries(io, result.notifications);
          io.setExitCode(result.status === 'failed' ? 1 : 0);
        } finally {
          await store.close();
        }
      },
    );
}
