import type { Command } from 'commander';

import { EtlError } from '../../errors/index.js';
import type { CliIo } from '../context.js';
import { formatCount, formatTable } from '../format.js';

function positiveInt(name: string, raw: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) < 1)
    throw new EtlError('ETL_USAGE', `${name} must be a whole number of 1 or more, not ${JSON.stringify(raw)}`);
  return Number(raw);
}

function seedOf(raw: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) > 0xffffffff)
    throw new EtlError('ETL_USAGE', `--seed must be a whole number from 0 to 4294967295, not ${JSON.stringify(raw)}`);
  return Number(raw);
}

export function registerGenerate(program: Command, io: CliIo): void {
  program
    .command('generate')
    .description('write a realistic, deterministic sample school export')
    .requiredOption('--out <dir>', 'folder to write into (created if needed)')
    .option('--school <id>', 'school number', '8865')
    .option('--students <n>', 'number of students', '1500')
    .option('--seed <n>', 'random seed; the same seed writes the same bytes', '1')
    .option(
      '--format <format>',
      'eduhub (CSV files) or fixed (STUDENT.DAT, STAFF.DAT and relationships.json)',
      'eduhub',
    )
    .option(
      '--fixed-layout <layout>',
      "with --format fixed: cases (CASES' own columns), seed (the seed system's example layout) or varied (reordered, widened, numbers side by side)",
      'cases',
    )
    .action(
      async (opts: {
        out: string;
        school: string;
        students: string;
        seed: string;
        format: string;
        fixedLayout: string;
      }) => {
        if (opts.format !== 'eduhub' && opts.format !== 'fixed')
          throw new EtlError('ETL_USAGE', `--format must be eduhub or fixed, not ${JSON.stringify(opts.format)}`);
        if (!/^[A-Za-z0-9]+$/.test(opts.school))
          throw new EtlError(
            'ETL_USAGE',
            `--school must be letters and digits (e.g. 8865), not ${JSON.stringify(opts.school)}`,
          );
        if (!['cases', 'seed', 'varied'].includes(opts.fixedLayout))
          throw new EtlError(
            'ETL_USAGE',
            `--fixed-layout must be cases, seed or varied, not ${JSON.stringify(opts.fixedLayout)}`,
          );
        const { generateSchool } = await import('../../generate/index.js');
        const result = await generateSchool({
          outDir: opts.out,
          school: opts.school,
          students: positiveInt('--students', opts.students),
          seed: seedOf(opts.seed),
          format: opts.format,
          fixedLayout: opts.fixedLayout as 'cases' | 'seed' | 'varied',
        });
        io.out(`Wrote ${result.files.length} files to ${opts.out}`);
        io.out(
          formatTable(
            ['FILE', 'TABLE', '>ROWS', '>BYTES'],
            result.files.map((f) => [f.name, f.table, formatCount(f.rows), formatCount(f.bytes)]),
          ),
        );
      },
    );
}
