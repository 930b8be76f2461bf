import { z } from 'zod';

import type { ValueKind } from './values.js';

/**
 * How one environment variable is described: the kind of value it holds, its default (read like a
 * set value, so it is checked and documented as one), its documentation and where it is listed.
 */

/** Headings of docs/configuration.md, in order. */
export const GROUPS = [
  'Source and layouts',
  'Guard rails',
  'Database and archive',
  'Retries and limits',
  'Jobs and schedule',
  'HTTP (serve)',
  'Notifications',
  'Logs',
] as const;
export type Group = (typeof GROUPS)[number];

/**
 * The commands whose `--help` lists the variables they read, by their path as typed after
 * `cases-etl` (test/cli-help.test.ts checks that each has its own command and help).
 */
export const COMMANDS = [
  'run',
  'validate',
  'runs',
  'rollback',
  'history',
  'migrate',
  'serve',
  'worker',
  'trigger',
  'schedule show',
  'layouts list',
  'layouts show',
  'layouts infer',
  'layouts check',
  'notify test',
] as const;
export type CommandName = (typeof COMMANDS)[number];

interface Described<T> {
  readonly group: Group;
  /** Markdown: names and values in backticks (`--help` drops them). */
  readonly description: string;
  readonly kind: ValueKind<T>;
  /** In the README's short table, not only in docs/configuration.md. */
  readonly common?: boolean;
  /** The commands that read it, whose `--help` lists it. */
  readonly commands: readonly CommandName[];
}

/** A variable read as `default` when unset, so the default is parsed, and documented, like a value. */
type WithDefault<T> = Described<T> & { readonly default: string };
/** A variable with no literal default; `unset` says what leaving it out means. */
type WithoutDefault<T> = Described<T> & { readonly unset: string };

export interface Definition<T> {
  readonly group: Group;
  readonly description: string;
  readonly common: boolean;
  /** The commands that read it, whose `--help` lists it. */
  readonly commands: readonly CommandName[];
  /** The default as the docs show it: a value (`literal`) or what leaving the variable out means. */
  readonly shown: string;
  /** The value used when the variable is unset, as it would be written; undefined when computed or none. */
  readonly literal: string | undefined;
  /** Reads the variable's raw text: blank counts as unset. */
  readonly schema: z.ZodType<T, unknown>;
  /** The kind's problem text for checks without a message of their own (see ValueKind). */
  readonly problem: ((text: string) => string) | undefined;
}

/** An unset or blank variable is undefined; anything else is trimmed. */
function blankToUndefined(raw: unknown): unknown {
  return typeof raw === 'string' && raw.trim() !== '' ? raw.trim() : undefined;
}

/** One entry of the table in src/config/schema.ts; unset and without a default, the value is undefined. */
export function variable<T>(spec: WithDefault<T>): Definition<T>;
export function variable<T>(spec: WithoutDefault<T>): Definition<T | undefined>;
export function variable<T>(spec: WithDefault<T> | WithoutDefault<T>): Definition<T> | Definition<T | undefined> {
  const literal = 'default' in spec ? spec.default : undefined;
  // prefault, not default: the default text goes through the same parsing as a value that is set.
  const read = literal === undefined ? spec.kind.schema.optional() : spec.kind.schema.prefault(literal);
  return {
    group: spec.group,
    description: spec.description,
    common: spec.common ?? false,
    commands: spec.commands,
    shown: 'default' in spec ? spec.default : spec.unset,
    literal,
    schema: z.preprocess(blankToUndefined, read) as z.ZodType<T, unknown>,
    problem: spec.kind.problem,
  };
}
