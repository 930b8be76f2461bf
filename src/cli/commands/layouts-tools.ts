import { basename } from 'node:path';

import type { Command } from 'commander';

import { EtlError } from '../../errors/index.js';
import type {
  CheckReport,
  CsvHeaderReport,
  FileLayoutEntry,
  InferredLayout,
  LayoutRegistry,
  TableLayout,
} from '../../layouts/index.js';
import { loadCliContext, type CliIo } from '../context.js';
import { formatCount, formatTable } from '../format.js';

/**
 * `layouts infer FILE` and `layouts check FILE`: describe a new file and check a layout against
 * a file before any run. Values from the file are masked (`x` for every character) unless
 * `--show-values` asks for them.
 */

/** Rows of the preview under an inferred layout. */
const PREVIEW_ROWS = 5;

function positiveInt(name: string, raw: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) < 1)
    throw new EtlError('ETL_USAGE', `${name} must be a whole number of 1 or more, not ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** `Olivia` → `xxxxxx`: a value's width without its characters. */
const mask = (value: string): string => 'x'.repeat(value.length);

function fixedLayouts(registry: LayoutRegistry): TableLayout[] {
  return [...registry.seedDat, ...[...registry.tables.values()].filter((l) => l.format === 'fixed')];
}

/** The entry as JSON to paste, one line per column so it can be read against the preview. */
function entryText(entry: FileLayoutEntry): string {
  const { columns, ...rest } = entry;
  const head = Object.entries(rest).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)},`);
  const cols = columns.map((c, i) => `    ${JSON.stringify(c)}${i < columns.length - 1 ? ',' : ''}`);
  return ['{', ...head, '  "columns": [', ...cols, '  ]', '}'].join('\n');
}

function preview(lines: readonly string[], inferred: InferredLayout, showValues: boolean): string {
  const rows = lines
    .filter((l) => l.trim() !== '')
    .slice(0, PREVIEW_ROWS)
    .map((line) =>
      inferred.columns.map((c) => {
        const value = line.slice(c.start, c.start + c.width).trim();
        return showValues ? value : mask(value);
      }),
    );
  return formatTable(
    inferred.columns.map((c) => c.name),
    rows,
  );
}

function printCsvReport(io: CliIo, file: string, layout: TableLayout, report: CsvHeaderReport): void {
  io.out(
    `${file}: ${report.header.length} columns, ${report.known} known to the ${layout.table} layout (${layout.originDetail})`,
  );
  if (report.unknown.length === 0) io.out('Unknown columns: none');
  else {
    io.out(`Unknown columns (a newer CASES21 release?), with a type proposed from ${formatCount(report.rows)} rows:`);
    io.out(
      formatTable(
        ['COLUMN', 'TYPE', 'FORMAT', '>FILLED'],
        report.unknown.map((u) => [u.name, u.type, u.format ?? '', formatCount(u.filled)]),
      ),
    );
  }
  io.out(`Missing columns: ${report.missing.length === 0 ? 'none' : report.missing.join(', ')}`);
}

function printCheck(io: CliIo, file: string, layout: TableLayout, report: CheckReport): void {
  io.out(`${file} against ${layout.filename ?? layout.table} (${layout.originDetail})`);
  io.out(`  ${formatCount(report.lines)} lines; the layout's columns end at character ${report.width}`);
  io.out(
    `  line lengths: ${report.lengths
      .slice(0, 5)
      .map(([len, count]) => `${len} × ${formatCount(count)}${len === report.width ? ' (fits)' : ''}`)
      .join(', ')}${report.lengths.length > 5 ? ', …' : ''}`,
  );
  for (const f of report.findings) {
    io.out(`${f.level} ${f.column ?? '(lines)'}: ${f.message}`);
    if (f.lines.length > 0) io.out(`  lines ${f.lines.join(', ')}${f.count > f.lines.length ? ', …' : ''}`);
    io.out(`  fix: ${f.fix}`);
  }
  const errors = report.findings.filter((f) => f.level === 'error').length;
  const warnings = report.findings.length - errors;
  io.out(
    report.fits
      ? `The layout fits${warnings > 0 ? ` (${warnings} warning${warnings === 1 ? '' : 's'})` : ''}.`
      : `The layout does not fit: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}.`,
  );
}

interface InferOptions {
  sample: string;
  table?: string;
  json?: boolean;
  showValues?: boolean;
  write?: string;
  encoding: string;
}

export function registerLayoutTools(layouts: Command, io: CliIo): void {
  layouts
    .command('infer <file>')
    .description(
      'propose a file_layouts entry for a fixed-width file (or compare an eduHub CSV header with its layout)',
    )
    .option('--sample <n>', 'lines to look at', '5000')
    .option('--table <name>', 'table_name of the entry (e.g. DF_8865)')
    .option('--json', 'print as JSON')
    .option('--show-values', "show the file's values in the preview (masked by default)")
    .option('--write <path>', 'merge the entry into this relationships.json, changing nothing else in it')
    .option('--encoding <name>', "the file's encoding (a UTF-8 BOM wins)", 'windows-1252')
    .action(async (file: string, opts: InferOptions) => {
      const sample = positiveInt('--sample', opts.sample);
      const { layouts: registry } = await loadCliContext(io);
      const layoutsApi = await import('../../layouts/index.js');
      const name = basename(file);
      // The header line does not count against the sample of a CSV file.
      const csv = /\.csv$/i.test(name);
      const lines = await layoutsApi.readSampleLines(file, csv ? sample + 1 : sample, opts.encoding);
      if (csv) {
        const eduhub = layoutsApi.parseEduhubFileName(name);
        const layout = registry.layoutForFileName(name) ?? (eduhub ? registry.layoutFor(eduhub.table) : undefined);
        if (!layout || layout.format !== 'csv')
          throw new EtlError(
            'ETL_LAYOUT_UNKNOWN_TABLE',
            `no CSV layout for ${name}; eduHub files are named <TABLE>_<SITE>.csv (see \`cases-etl layouts list\`)`,
          );
        const report = await layoutsApi.reportCsvHeader(lines, layout, file);
        if (opts.json) io.out(JSON.stringify({ file, table: layout.table, ...report }, null, 2));
        else printCsvReport(io, file, layout, report);
        return;
      }
      const inferred = layoutsApi.inferFixedLayout(lines, fixedLayouts(registry), file);
      const entry = layoutsApi.fileLayoutEntry(inferred, name, opts.table);
      if (opts.write) await layoutsApi.writeFileLayout(opts.write, name, entry);
      if (opts.json) {
        const rows = lines
          .filter((l) => l.trim() !== '')
          .slice(0, PREVIEW_ROWS)
          .map((line) =>
            Object.fromEntries(
              inferred.columns.map((c) => {
                const value = line.slice(c.start, c.start + c.width).trim();
                return [c.name, opts.showValues ? value : mask(value)];
              }),
            ),
          );
        const json = {
          file,
          lines: inferred.lines,
          width: inferred.width,
          namedAfter: inferred.namedAfter,
          entry: { [name]: entry },
          preview: rows,
          ...(opts.write ? { written: opts.write } : {}),
        };
        io.out(JSON.stringify(json, null, 2));
        return;
      }
      io.out(
        `${file}: ${formatCount(inferred.lines)} lines looked at, records ${inferred.width} characters, ${inferred.columns.length} columns` +
          (inferred.namedAfter
            ? `; names from ${inferred.namedAfter}`
            : '; no known layout lines up, so columns are named COL_<start>'),
      );
      io.out('');
      io.out(`${JSON.stringify(name)}: ${entryText(entry)}`);
      io.out('');
      io.out(`The first rows under this layout${opts.showValues ? '' : ' (values masked; --show-values shows them)'}:`);
      io.out(preview(lines, inferred, opts.showValues ?? false));
      if (opts.write) io.out(`\nWrote file_layouts[${JSON.stringify(name)}] into ${opts.write}.`);
      else
        io.out(
          `\nCheck it with \`cases-etl layouts check ${file}\` once it is in relationships.json (or --write it there).`,
        );
    });

  layouts
    .command('check <file>')
    .description('check a fixed-width file against its layout before any run; exit 1 when it does not fit')
    .option(
      '--layout <key>',
      "the layout to check against (a file_layouts key such as STUDENT.DAT, or a table); default: the file's own",
    )
    .option('--json', 'print as JSON')
    .action(async (file: string, opts: { layout?: string; json?: boolean }) => {
      const { layouts: registry } = await loadCliContext(io);
      const key = opts.layout ?? basename(file);
      const layout = registry.layoutForFileName(key) ?? (opts.layout ? registry.layoutFor(opts.layout) : undefined);
      if (!layout)
        throw new EtlError(
          'ETL_LAYOUT_UNKNOWN_TABLE',
          `no fixed-width layout for ${key}; name one with --layout, or add it with \`cases-etl layouts infer ${file} --write relationships.json\``,
        );
      if (layout.format !== 'fixed')
        throw new EtlError(
          'ETL_USAGE',
          `${key} is a CSV layout; layouts check is for fixed-width files (\`cases-etl validate\` checks CSV files)`,
        );
      const layoutsApi = await import('../../layouts/index.js');
      const report = await layoutsApi.checkFixedFile(layoutsApi.readLines(file, layout.encoding), layout);
      if (opts.json) io.out(JSON.stringify({ file, layout: layout.filename ?? layout.table, ...report }, null, 2));
      else printCheck(io, file, layout, report);
      if (!report.fits) io.setExitCode(1);
    });
}
