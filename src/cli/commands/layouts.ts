import type { Command } from 'commander';

import { EtlError } from '../../errors/index.js';
import type { ColumnLayout, KeyRule, TableLayout } from '../../layouts/index.js';
import { loadCliContext, type CliIo } from '../context.js';
import { formatTable } from '../format.js';
import { registerLayoutTools } from './layouts-tools.js';

function keyText(l: TableLayout): string {
  return l.primaryKey ? l.primaryKey.join(', ') : '(none)';
}

/** How each key rule reads in `layouts show`. */
const KEY_RULE_TEXT: Record<KeyRule, string> = {
  layout: "the layout's primary_key",
  builtin: 'the built-in key of the table',
  'profile-first-column': "inferred: the layout's first column, which primary_keys lists as unique",
  'table-key': "inferred: the table's <TABLE>KEY column, which primary_keys lists as unique",
  tid: 'inferred: the TID column, which primary_keys lists as unique',
};

/**
 * A fixed-width text column that looks like a YYYYMMDD date (8 wide, named like a date). Only
 * offered as a hint: a user layout's untyped column stays text until the layout says otherwise.
 */
function dateHint(l: TableLayout, c: ColumnLayout): string | null {
  if (l.format !== 'fixed' || c.type !== 'string' || c.width !== 8 || !/DOB|DATE/.test(c.name)) return null;
  return 'looks like a date: add "type": "date", "format": "yyyymmdd"';
}

function summary(l: TableLayout): Record<string, unknown> {
  return {
    table: l.table,
    origin: l.origin,
    source: l.originDetail,
    format: l.format,
    file: l.filename ?? `${l.table}_<SITE>.csv`,
    tableName: l.tableName,
    encoding: l.encoding,
    primaryKey: l.primaryKey,
    keyProblem: l.keyProblem,
    keyRule: l.keyRule,
    mode: l.mode,
    required: l.required,
    view: l.view,
    fieldMapping: l.fieldMapping,
    candidateKeys: l.candidateKeys,
    description: l.description,
    columns: l.columns.map((c) => {
      const hint = dateHint(l, c);
      return hint ? { ...c, hint } : c;
    }),
  };
}

export function registerLayouts(program: Command, io: CliIo): void {
  const layouts = program
    .command('layouts')
    .description('show the table layouts that were loaded and where each came from');

  layouts
    .command('list')
    .description('one line per table')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean }) => {
      const { layouts: registry } = await loadCliContext(io);
      const all = [...registry.tables.values()];
      const brief = ({ columns: _c, ...rest }: TableLayout): Record<string, unknown> => ({
        ...rest,
        columns: _c.length,
      });
      if (opts.json) {
        const json = {
          relationships: registry.relationshipsPath,
          tables: all.map(brief),
          seedDatFiles: registry.seedDat.map(brief),
        };
        io.out(JSON.stringify(json, null, 2));
        return;
      }
      io.out(`relationships.json: ${registry.relationshipsPath ?? '(none: built-in layouts only)'}`);
      io.out(
        formatTable(
          ['TABLE', 'ORIGIN', 'FORMAT', 'FILE', 'KEY', '>COLUMNS', 'DESCRIPTION'],
          [...all, ...registry.seedDat].map((l) => [
            l.table,
            l.origin,
            l.format,
            l.filename ?? `${l.table}_<SITE>.csv`,
            keyText(l),
            l.columns.length === 0 ? 'header' : String(l.columns.length),
            l.description ?? (registry.seedDat.includes(l) ? "the seed's fixed-width export (by file name only)" : ''),
          ]),
        ),
      );
      const keyless = all.filter((l) => l.keyProblem);
      if (keyless.length > 0)
        io.out(
          `\n${keyless.length} table${keyless.length > 1 ? 's have' : ' has'} no primary key and cannot be loaded until one is given: ${keyless.map((l) => l.table).join(', ')}`,
        );
    });

  layouts
    .command('show <table>')
    .description('every column of one table (ST, ST_8865, or a fixed-width file name such as STUDENT.DAT)')
    .option('--json', 'print as JSON')
    .action(async (table: string, opts: { json?: boolean }) => {
      const { layouts: registry } = await loadCliContext(io);
      const layout = registry.layoutForFileName(table) ?? registry.layoutFor(table);
      if (!layout)
        throw new EtlError('ETL_LAYOUT_UNKNOWN_TABLE', `no layout for ${table}; see \`cases-etl layouts list\``);
      if (opts.json) {
        io.out(JSON.stringify(summary(layout), null, 2));
        return;
      }
      const lines = [
        `${layout.table}${layout.description ? ` — ${layout.description}` : ''}`,
        `  from:      ${layout.originDetail}`,
        `  format:    ${layout.format}${layout.filename ? ` (file ${layout.filename})` : ` (files ${layout.table}_<SITE>.csv and ${layout.table}_<SITE>_D.csv)`}`,
        `  encoding:  ${layout.encoding}`,
        `  key:       ${keyText(layout)}${layout.keyProblem ? `\n  problem:   ${layout.keyProblem}` : ''}`,
      ];
      if (layout.keyRule) lines.push(`  key rule:  ${layout.keyRule} (${KEY_RULE_TEXT[layout.keyRule]})`);
      if (layout.tableName) lines.push(`  table:     ${layout.tableName}`);
      if (layout.mode) lines.push(`  mode:      ${layout.mode}`);
      const seedDat = registry.seedDat.includes(layout);
      if (layout.required)
        lines.push(
          `  required:  yes${seedDat ? ' (with the other .DAT files, when the folder holds any of them)' : ''}`,
        );
      if (layout.candidateKeys.length > 0) lines.push(`  profile unique columns: ${layout.candidateKeys.join(', ')}`);
      if (layout.fieldMapping)
        lines.push(
          `  view:      ${layout.view ?? '(named after the table)'} with ${Object.entries(layout.fieldMapping)
            .map(([c, f]) => `${c}→${f}`)
            .join(', ')}`,
        );
      io.out(lines.join('\n'));
      if (layout.columns.length === 0) {
        io.out("  columns:   taken from each file's header (profile-only table)");
        return;
      }
      const fixed = layout.format === 'fixed';
      io.out(
        formatTable(
          ['#', 'COLUMN', 'TYPE', '>LENGTH', ...(fixed ? ['>START', '>WIDTH'] : []), 'REQUIRED', 'DESCRIPTION'],
          layout.columns.map((c, i) => [
            String(i + 1),
            c.name,
            c.type,
            c.maxLength === null ? '' : String(c.maxLength),
            ...(fixed ? [String(c.start ?? ''), String(c.width ?? '')] : []),
            c.required ? 'yes' : '',
            [c.description, dateHint(layout, c)].filter((t) => t).join('; '),
          ]),
        ),
      );
    });
  registerLayoutTools(layouts, io);
}
