import type { Command } from 'commander';

import type { FileReport, SourceReport } from '../../pipeline/index.js';
import { formatCount, formatPercent, formatTable, PLAIN, type Palette } from '../format.js';
import { loadCliContext, outPalette, type CliIo } from '../context.js';

function fileLines(f: FileReport): string[] {
  const out: string[] = [];
  if (f.error) out.push(`  ${f.file}: not readable — ${f.error.code}: ${f.error.message}`);
  for (const n of f.notices) out.push(`  ${f.file}: ${n.severity} ${n.code}: ${n.message}`);
  if (f.rejectedRows > 0) {
    const codes = Object.entries(f.rejectsByCode)
      .map(([code, n]) => `${code} ×${formatCount(n)}`)
      .join(', ');
    out.push(`  ${f.file}: ${formatCount(f.rejectedRows)} rejected row${f.rejectedRows === 1 ? '' : 's'} (${codes})`);
    if (f.held > 0)
      out.push(
        `  ${f.file}: ${formatCount(f.held)} with a readable key: a run holds those rows as they were last published`,
      );
    if (f.keyless > 0 && f.mode === 'full') {
      out.push(
        `  ${f.file}: ${formatCount(f.keyless)} without a readable key: a run defers this table's deactivations (ETL_LOAD_DEFERRED)`,
      );
    }
    for (const r of f.examples)
      out.push(
        `    line ${r.line}${r.key ? ` key ${r.key}` : ''}${r.field ? ` ${r.field}` : ''}: ${r.code} ${r.message}`,
      );
  }
  return out;
}

/** The human-readable report, statuses coloured by `palette`. Values from the files are never printed: they can be personal data. */
export function renderReport(report: SourceReport, palette: Palette = PLAIN): string {
  const out: string[] = [`Source ${report.directory}`];
  for (const school of report.schools) {
    out.push('', `School ${school.school}: ${school.files.length} file${school.files.length === 1 ? '' : 's'}`);
    out.push(
      formatTable(
        ['FILE', 'TABLE', 'MODE', 'FORMAT', '>ROWS', '>REJECTED', 'STATUS'],
        school.files.map((f) => [
          f.file,
          f.table,
          f.mode,
          f.format,
          formatCount(f.rows),
          formatCount(f.rejectedRows),
          f.error ? 'unreadable' : f.rejectedRows > 0 ? 'rejects' : 'ok',
        ]),
        '  ',
        { 6: palette.status },
      ),
    );
    for (const c of school.conflicts) out.push(`  ETL_SOURCE_DUPLICATE_TABLE: ${c.message}`);
    if (school.missingRequired.length > 0)
      out.push(
        `  missing required table${school.missingRequired.length > 1 ? 's' : ''}: ${school.missingRequired.join(', ')}`,
      );
    const details = school.files.flatMap(fileLines);
    if (details.length > 0) out.push('', ...details);
  }
  if (report.notices.length > 0)
    out.push('', ...report.notices.map((n) => `${n.severity} ${n.code}${n.file ? ` ${n.file}` : ''}: ${n.message}`));
  const t = report.totals;
  out.push(
    '',
    `Totals: ${t.files} file${t.files === 1 ? '' : 's'}, ${formatCount(t.rows)} rows, ${formatCount(t.rejectedRows)} rejected (${formatPercent(t.rejectedRows, t.records)}), ${t.unreadable} unreadable`,
  );
  return out.join('\n');
}

/** Report without the original lines, which hold personal data. */
function publicReport(report: SourceReport): unknown {
  return {
    ...report,
    schools: report.schools.map((s) => ({
      ...s,
      files: s.files.map((f) => ({
        ...f,
        examples: f.examples.map(({ raw: _raw, rawBytes: _bytes, ...rest }) => rest),
      })),
    })),
  };
}

export function registerValidate(program: Command, io: CliIo): void {
  program
    .command('validate')
    .description('read the export folder and report what is in it and what is wrong, writing nothing')
    .option('--source <dir>', 'export folder (default: CASES_DIRECTORY)')
    .option('--school <id>', 'only this school; also the school id of fixed-width files')
    .option('--json', 'print the report as JSON')
    .option('--examples <n>', 'rejects to show per file', '5')
    .action(async (opts: { source?: string; school?: string; json?: boolean; examples: string }) => {
      const ctx = await loadCliContext(io, { sourceDirectory: opts.source, schoolId: opts.school });
      const progress = io.isTTY && !opts.json ? (f: { name: string }) => io.err(`reading ${f.name}…`) : undefined;
      const { inspectSource } = await import('../../pipeline/index.js');
      const report = await inspectSource(ctx.config, ctx.layouts, {
        school: opts.school ?? null,
        examples: Number(opts.examples) || 5,
        ...(progress ? { onFile: progress } : {}),
      });
      io.out(opts.json ? JSON.stringify(publicReport(report), null, 2) : renderReport(report, outPalette(io)));
      io.setExitCode(report.exitCode);
    });
}
