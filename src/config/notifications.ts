import { z } from 'zod';

import { fail, listOf, whichAre, type ValueKind } from './values.js';

/**
 * The notification settings: which channels are on (a channel is on when its variable is set)
 * and which outcomes are sent. The variables are read with the rest (src/config/schema.ts);
 * here are the kinds of value they hold and the rules between them.
 */

/** Outcomes ETL_NOTIFY_ON may name. */
export const NOTIFY_ON = ['succeeded', 'warning', 'failed', 'rolled_back'] as const;
export type NotifyOn = (typeof NOTIFY_ON)[number];

export interface NotificationConfig {
  /** Slack incoming webhook (SLACK_WEBHOOK_URL); null: no Slack. */
  readonly slackWebhookUrl: string | null;
  /** Teams Workflows webhook (TEAMS_WEBHOOK_URL); null: no Teams. */
  readonly teamsWebhookUrl: string | null;
  /** Email recipients (ETL_NOTIFICATION_EMAIL, comma-separated); empty: no email. */
  readonly emailTo: readonly string[];
  /** SMTP server for email (SMTP_URL, smtp:// or smtps://, credentials in the URL). */
  readonly smtpUrl: string | null;
  /** From address of the emails (ETL_NOTIFICATION_FROM), default cases-etl@ this host's name. */
  readonly emailFrom: string;
  /** Outcomes that are sent (ETL_NOTIFY_ON), default all four. */
  readonly on: readonly NotifyOn[];
  /** Longest wait for one delivery attempt, in ms (ETL_NOTIFY_TIMEOUT_MS), default 10000. */
  readonly timeoutMs: number;
}

/** An address as mail servers take it: no spaces, one @, a dot in the domain. */
const EMAIL = /^[^\s@,<>]+@[^\s@,<>]+\.[^\s@,<>]+$/;

/** A Slack or Teams webhook. Never echoed: a webhook URL is a secret. */
export const webhookUrl: ValueKind<string> = {
  schema: z.string().transform((t, ctx) => {
    if (!URL.canParse(t)) return fail(ctx, t, ' is not a URL (expected https://…)');
    const { protocol } = new URL(t);
    if (protocol !== 'https:' && protocol !== 'http:') return fail(ctx, t, ' must be an https:// URL');
    return t;
  }),
};

/** Email addresses, comma-separated. */
export const emailList: ValueKind<readonly string[]> = {
  schema: z.string().transform((t, ctx) => {
    const items = listOf(t);
    const bad = items.filter((s) => !EMAIL.test(s));
    if (bad.length === 0) return items;
    return fail(ctx, t, ` has ${whichAre(bad, 'is not an email address', 'are not email addresses')}`);
  }),
};

/** A mail server; credentials may be in the URL, so it is never echoed. */
export const smtpUrl: ValueKind<string> = {
  schema: z.string().transform((t, ctx) => {
    if (!URL.canParse(t))
      return fail(ctx, t, ' is not a URL (expected smtp://host:port or smtps://user:password@host:465)');
    const { protocol } = new URL(t);
    if (protocol !== 'smtp:' && protocol !== 'smtps:') return fail(ctx, t, ' must start with smtp:// or smtps://');
    return t;
  }),
};

/** A From address, bare or with a display name: `cases-etl <etl@school.vic.edu.au>`. */
export const fromAddress: ValueKind<string> = {
  schema: z.string().refine((from) => EMAIL.test(/<([^>]+)>\s*$/.exec(from)?.[1] ?? from)),
  problem: (t) => `=${JSON.stringify(t)} is not an email address (e.g. "cases-etl <etl@school.vic.edu.au>")`,
};

/** ETL_NOTIFICATION_FROM when unset: cases-etl at this host (a bare name gets `.localdomain`). */
export function defaultFrom(hostName: string): string {
  return `cases-etl@${hostName.includes('.') ? hostName : `${hostName}.localdomain`}`;
}

/** Outcomes, comma-separated, any case, kept in NOTIFY_ON's order; `none` for none. */
export const notifyOn: ValueKind<readonly NotifyOn[]> = {
  schema: z.string().transform((t, ctx) => {
    const items = listOf(t, (s) => s.toLowerCase());
    if (items.length === 1 && items[0] === 'none') return [];
    const bad = items.filter((s) => !(NOTIFY_ON as readonly string[]).includes(s));
    if (bad.length === 0) return NOTIFY_ON.filter((e) => items.includes(e));
    const use = `use a comma-separated list of ${NOTIFY_ON.join(', ')}, or none`;
    return fail(ctx, t, ` has ${bad.map((b) => JSON.stringify(b)).join(', ')}; ${use}`);
  }),
};

/** The problem when email has recipients but no server to send through. */
export const SMTP_NEEDED = 'ETL_NOTIFICATION_EMAIL is set but SMTP_URL is not (e.g. smtp://mail.school.vic.edu.au:25)';
