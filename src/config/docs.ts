import { VARIABLES, type Variable } from './schema.js';
import { GROUPS, type CommandName } from './variable.js';

/**
 * The configuration's documentation, written from the variables' table so that it cannot drift:
 * the README's short table and docs/configuration.md (by `npm run docs:config`, checked by
 * test/config-docs.test.ts), `cases-etl help config`, and the Environment part of each command's `--help`.
 */

/** The markers around the generated table in README.md. */
export const README_MARKERS = { start: '<!-- config:start -->', end: '<!-- config:end -->' } as const;

const cell = (s: string): string => s.replace(/\|/g, '\\|');
const shownDefault = (v: Variable): string => (v.literal ? `\`${v.default}\`` : v.default);

function table(variables: readonly Variable[]): string[] {
  return [
    '| Variable | Default | Meaning |',
    '|---|---|---|',
    ...variables.map((v) => `| \`${v.name}\` | ${cell(shownDefault(v))} | ${cell(v.description)} |`),
  ];
}

/** The README's table: the variables most installations set (`common`), in table order. */
export function renderReadmeTable(): string {
  return table(VARIABLES.filter((v) => v.common)).join('\n');
}

/** docs/configuration.md: every variable, under its group's heading. */
export function renderConfigurationDoc(): string {
  const sections = GROUPS.flatMap((group) => [
    '',
    `## ${group}`,
    '',
    ...table(VARIABLES.filter((v) => v.group === group)),
  ]);
  return [
    '# Configuration',
    '',
    '<!-- Written by `npm run docs:config` from src/config/schema.ts: edit the descriptions there. -->',
    '',
    'cases-etl is configured by environment variables, read and checked once at start. A variable that is',
    'empty or only spaces counts as unset. Every problem is reported together, as `ETL_CONFIG_INVALID`',
    '(exit 2), each naming the variable and what it must be. The command-line options `--source` and',
    '`--school` win over `CASES_DIRECTORY` and `CASES_SCHOOL_ID`.',
    '',
    "`cases-etl help config` lists the same variables and defaults; each command's `--help` names those it reads.",
    ...sections,
    '',
  ].join('\n');
}

/** Text for a terminal: Markdown's backticks dropped. */
const plain = (s: string): string => s.replace(/`/g, '');

/** `cases-etl help config`: every variable, with what it means and its default, under its group's heading. */
export function environmentHelp(): string {
  const width = Math.max(...VARIABLES.map((v) => v.name.length));
  const sections = GROUPS.map((group) => [
    `${group}:`,
    ...VARIABLES.filter((v) => v.group === group).map(
      (v) => `  ${v.name.padEnd(width)}  ${plain(v.description)} (default ${plain(v.default)})`,
    ),
  ]);
  return [
    'Environment variables, read and checked once at start (docs/configuration.md has the same list):',
    ...sections.map((lines) => ['', ...lines].join('\n')),
  ].join('\n');
}

/** The end of one command's `--help`: the variables it reads, with their defaults; null when it reads none. */
export function commandEnvironmentHelp(command: CommandName): string | null {
  const read = VARIABLES.filter((v) => v.commands.includes(command));
  if (read.length === 0) return null;
  const width = Math.max(...read.map((v) => v.name.length));
  return [
    'Environment (what each means: cases-etl help config):',
    ...read.map((v) => `  ${v.name.padEnd(width)}  default ${plain(v.default)}`),
  ].join('\n');
}

/** `document` with the text between README_MARKERS replaced by `block`; null when the markers are missing. */
export function replaceBetweenMarkers(document: string, block: string): string | null {
  const start = document.indexOf(README_MARKERS.start);
  const end = document.indexOf(README_MARKERS.end);
  if (start < 0 || end < start) return null;
  return `${document.slice(0, start + README_MARKERS.start.length)}\n${block}\n${document.slice(end)}`;
}
