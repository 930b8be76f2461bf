import { resolve } from 'node:path';

import cronParser from 'cron-parser';
import { z } from 'zod';

import { hostNameOf } from '../util/index.js';
import type { DatabaseConfig, HttpConfig } from './types.js';

/**
 * The kinds of value an environment variable holds, as zod types that take the variable's text
 * (trimmed, never blank: a blank variable counts as unset) and give the typed value.
 *
 * zod's default messages ("Invalid input: expected number, received NaN") are replaced by ones a
 * school IT person can act on. A message is written to follow the variable's name, which
 * loadConfig puts in front: `="10%" must be a number from 0 to 1` or ` has "S F", which …`. A kind
 * with one message for every failure gives it as `problem`, from the text as it was set (zod's
 * checks see the coerced number); a kind with several attaches them to its checks, which win.
 * Values that may hold a secret (URLs with credentials, tokens) are never echoed.
 */
export interface ValueKind<T> {
  readonly schema: z.ZodType<T, string>;
  /** The problem, after the variable's name, for any failure without a message of its own. */
  readonly problem?: (text: string) => string;
}

const quoted = (text: string): string => JSON.stringify(text);

/** A comma-separated list: items trimmed (and mapped), empty items dropped. */
export function listOf(text: string, map: (item: string) => string = (item) => item): string[] {
  return text
    .split(',')
    .map((item) => map(item.trim()))
    .filter(Boolean);
}

/** `"a", which is not …` or `"a", "b", which are not …`, for lists with bad items. */
export function whichAre(bad: readonly string[], isNot: string, areNot: string): string {
  return `${bad.map(quoted).join(', ')}, which ${bad.length === 1 ? isNot : areNot}`;
}

/** Reports `message` from inside a transform, whose value is then unusable (zod's NEVER). */
export function fail(ctx: z.RefinementCtx, input: string, message: string): never {
  ctx.addIssue({ code: 'custom', input, message });
  return z.NEVER;
}

/** Any text; the variable's own description says what it is. */
export const text: ValueKind<string> = { schema: z.string() };

/** A file or folder, resolved against the working directory at start. */
export const path: ValueKind<string> = { schema: z.string().transform((p) => resolve(p)) };

/** Digits only (no sign, point or exponent), at least `min`. */
export function wholeNumber(min: 0 | 1): ValueKind<number> {
  return {
    schema: z.string().regex(/^\d+$/).pipe(z.coerce.number<string>().int().min(min)),
    problem: (t) => `=${quoted(t)} must be a whole number of ${min} or more`,
  };
}

/** A yes-or-no setting: true/false, yes/no, 1/0, on/off (any case). */
export const onOff: ValueKind<boolean> = {
  schema: z
    .string()
    .transform((t) => t.toLowerCase())
    .pipe(z.enum(['true', 'false', 'yes', 'no', '1', '0', 'on', 'off']))
    .transform((t) => ['true', 'yes', '1', 'on'].includes(t)),
  problem: (t) => `=${quoted(t)} must be true or false (also yes/no, 1/0, on/off)`,
};

/** A share such as an error rate, from 0 to 1. */
export const fraction: ValueKind<number> = {
  schema: z.coerce.number<string>().min(0).max(1),
  problem: (t) => `=${quoted(t)} must be a number from 0 to 1 (e.g. 0.10)`,
};

/** A factor of 1 or more, such as the growth of a delay. */
export const atLeastOne: ValueKind<number> = {
  schema: z.coerce.number<string>().min(1),
  problem: (t) => `=${quoted(t)} must be a number of 1 or more`,
};

/** A TCP port. */
export const port: ValueKind<number> = {
  schema: z.string().regex(/^\d+$/).pipe(z.coerce.number<string>().int().min(1).max(65535)),
  problem: (t) => `=${quoted(t)} must be a port number`,
};

/** One of `choices`, written in any case. */
function oneOf<const T extends readonly [string, ...string[]]>(choices: T): ValueKind<T[number]> {
  return {
    schema: z
      .string()
      .transform((t) => t.toLowerCase())
      .pipe(z.enum(choices)),
    problem: (t) => `=${quoted(t)} must be one of ${choices.join(', ')}`,
  };
}

/** Who may use serve's HTTP: nobody is asked (`none`), bearer tokens (`token`) or OpenID Connect sign-in (`oidc`). */
export const AUTH_MODES = ['none', 'token', 'oidc'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];
export const authMode: ValueKind<AuthMode> = oneOf(AUTH_MODES);

/** Names or ids, comma-separated (groups, roles); at least one. */
export const nameList: ValueKind<readonly string[]> = {
  schema: z
    .string()
    .transform((t) => listOf(t))
    .refine((names) => names.length > 0),
  problem: () => ' must list at least one name or id, separated by commas',
};

/** A secret of 32 characters or more (never echoed). */
export const secret: ValueKind<string> = {
  schema: z.string().min(32),
  problem: () => ' must be 32 characters or more',
};

/** pino's levels, most detailed first; `silent` logs nothing. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const logLevel: ValueKind<LogLevel> = oneOf(LOG_LEVELS);

/** How the built-in views name their columns: `student_id` (snake) or `studentId` (camel). */
export const VIEW_NAMINGS = ['snake', 'camel'] as const;
export type ViewNaming = (typeof VIEW_NAMINGS)[number];
export const viewNaming: ValueKind<ViewNaming> = oneOf(VIEW_NAMINGS);

/** The smallest ETL_MAX_LINE_BYTES accepted: below this, ordinary rows would be refused. */
export const MIN_LINE_BYTES = 1024;

/** The longest line read: a whole number, and not so small that ordinary rows are refused. */
export const lineBytes: ValueKind<number> = {
  schema: wholeNumber(1).schema.refine((n) => n >= MIN_LINE_BYTES, {
    error: (issue) => `=${String(issue.input)} must be at least ${MIN_LINE_BYTES}`,
  }),
  problem: wholeNumber(1).problem,
};

/** A school number: letters and digits, as in file names (`ST_8865.csv`). */
export const schoolId: ValueKind<string> = {
  schema: z.string().regex(/^[A-Za-z0-9]+$/),
  problem: (t) => `=${quoted(t)} must be letters and digits only (e.g. 8865)`,
};

/** School numbers, comma-separated; at least one. */
export const schoolList: ValueKind<readonly string[]> = {
  schema: z
    .string()
    .transform((t) => listOf(t))
    .refine((items) => items.length > 0 && items.every((x) => /^[A-Za-z0-9]+$/.test(x))),
  problem: (t) => `=${quoted(t)} must be school numbers separated by commas (e.g. 8865,8866)`,
};

/** CASES table names, comma-separated, upper-cased. */
export const tableList: ValueKind<readonly string[]> = {
  schema: z.string().transform((t, ctx) => {
    const items = listOf(t, (s) => s.toUpperCase());
    const bad = items.filter((s) => !/^[A-Z][A-Z0-9]*$/.test(s));
    if (bad.length === 0) return items;
    return fail(ctx, t, ` has ${whichAre(bad, 'is not a table name', 'are not table names')} (e.g. ST,SF)`);
  }),
};

/** A cron pattern of 5 or 6 fields that cron-parser, the parser BullMQ fires by, accepts. */
/** The five fields of a cron pattern, in order, as a message names them. */
const CRON_FIELDS = ['minute', 'hour', 'day of month', 'month', 'day of week'] as const;

/** The macros cron-parser reads, for `@daily` and the like. */
const CRON_MACROS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

/**
 * A cron pattern of five fields (or six, seconds first, as the tests' per-second schedules use),
 * or a macro such as `@daily`, checked by cron-parser (the library the schedule runs on) when
 * the configuration is read. A refusal names the field that is wrong and why.
 */
export const cronPattern: ValueKind<string> = {
  schema: z.string().transform((t, ctx) => {
    if (CRON_MACROS.includes(t.toLowerCase())) return t.toLowerCase();
    const fields = t.split(/\s+/);
    const example = 'such as "0 2 * * *" (minute hour day-of-month month day-of-week) or "@daily"';
    if (fields.length !== 5 && fields.length !== 6)
      return fail(
        ctx,
        t,
        `=${quoted(t)} has ${fields.length} field${fields.length === 1 ? '' : 's'}: give 5, ${example}`,
      );
    const names = fields.length === 6 ? ['second', ...CRON_FIELDS] : CRON_FIELDS;
    for (const [i, field] of fields.entries()) {
      // Each field on its own, the others any value: the first one cron-parser refuses is named.
      const alone = fields.map((f, j) => (j === i ? f : '*')).join(' ');
      try {
        cronParser.parseExpression(alone);
      } catch (err) {
        const why = err instanceof Error ? err.message.replace(/^Constraint error, /, '') : String(err);
        return fail(
          ctx,
          t,
          `=${quoted(t)} has a wrong ${names[i] ?? 'field'} field ${quoted(field)} (${why}): ${example}`,
        );
      }
    }
    try {
      cronParser.parseExpression(t);
    } catch (err) {
      return fail(
        ctx,
        t,
        `=${quoted(t)} is not a cron pattern (${err instanceof Error ? err.message : String(err)}): ${example}`,
      );
    }
    return t;
  }),
};

/** An IANA time zone name this Node knows. */
export const timeZone: ValueKind<string> = {
  schema: z.string().refine((t) => {
    try {
      new Intl.DateTimeFormat('en-AU', { timeZone: t });
      return true;
    } catch {
      return false;
    }
  }),
  problem: (t) => `=${quoted(t)} is not a time zone (e.g. Australia/Melbourne)`,
};

/** A lower-case SQL name, usable unquoted. */
export const sqlName: ValueKind<string> = {
  schema: z.string().regex(/^[a-z_][a-z0-9_]*$/),
  problem: (t) => `=${quoted(t)} must be a lower-case SQL name (letters, digits, _)`,
};

/** The database without its schema: `sqlite:PATH` (`:memory:` kept as it is) or `postgres://…`. */
export const databaseUrl: ValueKind<
  { readonly kind: 'sqlite'; readonly path: string } | { readonly kind: 'postgres'; readonly url: string }
> = {
  schema: z.string().transform((url, ctx) => {
    if (url.startsWith('sqlite:')) {
      const file = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
      if (!file) return fail(ctx, url, '=sqlite: needs a file path, e.g. sqlite:./data/cases-etl.db');
      return { kind: 'sqlite' as const, path: file === ':memory:' ? file : resolve(file) };
    }
    if (/^postgres(ql)?:\/\//.test(url)) {
      if (!URL.canParse(url)) return fail(ctx, url, ' is not a valid postgres:// URL');
      return { kind: 'postgres' as const, url };
    }
    return fail(ctx, url, ' must start with sqlite: or postgres:// (e.g. postgres://postgres@127.0.0.1:5432/cases)');
  }),
};

/** Puts the PostgreSQL schema beside a postgres URL; SQLite has none. */
export function databaseOf(
  url: z.output<typeof databaseUrl.schema>,
  schema: string,
  connectTimeoutMs: number,
): DatabaseConfig {
  return url.kind === 'sqlite' ? url : { ...url, schema, connectTimeoutMs };
}

/** A Redis URL; never echoed, as it may hold a password. */
export const redisUrl: ValueKind<string> = {
  schema: z.string().regex(/^rediss?:\/\//),
  problem: () => ' must start with redis:// or rediss://',
};

/** Bearer tokens, comma-separated, each `name:token` or `token` (named token1, token2, …). */
export const adminTokens: ValueKind<HttpConfig['adminTokens']> = {
  schema: z.string().transform((t, ctx) => {
    const tokens = listOf(t).map((entry, i) => {
      const at = entry.indexOf(':');
      return at > 0
        ? { name: entry.slice(0, at), token: entry.slice(at + 1) }
        : { name: `token${i + 1}`, token: entry };
    });
    // Only the names are shown: the tokens are secrets.
    const short = tokens.filter((x) => x.token.length < 16).map((x) => x.name);
    if (short.length === 0) return tokens;
    const count = `${short.length} token${short.length > 1 ? 's' : ''}`;
    return fail(ctx, t, ` has ${count} shorter than 16 characters (${short.join(', ')})`);
  }),
};

/** An http(s) URL, normalised (the host lower-cased) as the Host check compares it. */
export const httpUrl: ValueKind<string> = {
  schema: z.url({ protocol: /^https?$/, normalize: true }),
  problem: (t) => `=${quoted(t)} must be an http:// or https:// URL (e.g. https://etl.school.vic.edu.au/)`,
};

/** Host names, comma-separated, ports ignored; `*` (null) allows any. */
export const hostList: ValueKind<readonly string[] | null> = {
  schema: z.string().transform((t, ctx) => {
    if (t === '*') return null;
    const names = listOf(t).map((x) => hostNameOf(x));
    if (names.length > 0 && names.every((n): n is string => n !== null)) return [...new Set(names)];
    return fail(ctx, t, `=${quoted(t)} must be host names separated by commas (e.g. etl.school.lan,localhost), or *`);
  }),
};

/** Names a listen address does not stand for: it listens on every interface, and no Host header names it. */
const ANY_ADDRESS = new Set(['0.0.0.0', '::', '[::]']);

/** ETL_ALLOWED_HOSTS when unset: the listen address if it names one, loopback, and the public URL's host. */
export function defaultAllowedHosts(listenHost: string, publicUrl: string | null): readonly string[] {
  const names = [
    ...(ANY_ADDRESS.has(listenHost) ? [] : [listenHost]),
    'localhost',
    '127.0.0.1',
    '::1',
    ...(publicUrl ? [new URL(publicUrl).host] : []),
  ];
  return [...new Set(names.map((n) => hostNameOf(n)).filter((n): n is string => n !== null))];
}

/** Whether a listen address or host name stays on this machine: localhost, 127.0.0.0/8 or ::1. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}
