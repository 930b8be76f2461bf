/**
 * The notification settings: which channels are on (a channel is on when its variable is set)
 * and which outcomes are sent. Read by loadConfig with the rest, every problem reported at once.
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
  /** From address of the emails (ETL_NOTIFICATION_FROM). */
  readonly emailFrom: string;
  /** Outcomes that are sent (ETL_NOTIFY_ON), default all four. */
  readonly on: readonly NotifyOn[];
  /** Longest wait for one delivery attempt, in ms (ETL_NOTIFY_TIMEOUT_MS), default 10000. */
  readonly timeoutMs: number;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };
type Env = Readonly<Record<string, string | undefined>>;

const text = (v: string | undefined): string | null => v?.trim() || null;
/** An address as mail servers take it: no spaces, one @, a dot in the domain. */
const EMAIL = /^[^\s@,<>]+@[^\s@,<>]+\.[^\s@,<>]+$/;

function webhook(name: string, raw: string | undefined): Parsed<string | null> {
  const t = text(raw);
  if (t === null) return { ok: true, value: null };
  let url: URL;
  try {
    url = new URL(t);
  } catch {
    // Never echo the value: a webhook URL is a secret.
    return { ok: false, problem: `${name} is not a URL (expected https://…)` };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return { ok: false, problem: `${name} must be an https:// URL` };
  return { ok: true, value: t };
}

function recipients(raw: string | undefined): Parsed<readonly string[]> {
  const items = (text(raw) ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = items.filter((s) => !EMAIL.test(s));
  if (bad.length > 0)
    return {
      ok: false,
      problem: `ETL_NOTIFICATION_EMAIL has ${bad.map((b) => JSON.stringify(b)).join(', ')}, which ${bad.length === 1 ? 'is not an email address' : 'are not email addresses'}`,
    };
  return { ok: true, value: items };
}

function smtp(raw: string | undefined, needed: boolean): Parsed<string | null> {
  const t = text(raw);
  if (t === null)
    return needed
      ? {
          ok: false,
          problem: 'ETL_NOTIFICATION_EMAIL is set but SMTP_URL is not (e.g. smtp://mail.school.vic.edu.au:25)',
        }
      : { ok: true, value: null };
  let url: URL;
  try {
    url = new URL(t);
  } catch {
    return {
      ok: false,
      problem: 'SMTP_URL is not a URL (expected smtp://host:port or smtps://user:password@host:465)',
    };
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:')
    return { ok: false, problem: 'SMTP_URL must start with smtp:// or smtps://' };
  return { ok: true, value: t };
}

function notifyOn(raw: string | undefined): Parsed<readonly NotifyOn[]> {
  const t = text(raw);
  if (t === null) return { ok: true, value: NOTIFY_ON };
  const items = t
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  if (items.length === 1 && items[0] === 'none') return { ok: true, value: [] };
  const bad = items.filter((s) => !(NOTIFY_ON as readonly string[]).includes(s));
  if (bad.length > 0)
    return {
      ok: false,
      problem: `ETL_NOTIFY_ON has ${bad.map((b) => JSON.stringify(b)).join(', ')}; use a comma-separated list of ${NOTIFY_ON.join(', ')}, or none`,
    };
  return { ok: true, value: NOTIFY_ON.filter((e) => items.includes(e)) };
}

function timeout(raw: string | undefined): Parsed<number> {
  const t = text(raw);
  if (t === null) return { ok: true, value: 10_000 };
  if (!/^\d+$/.test(t) || Number(t) < 1)
    return { ok: false, problem: `ETL_NOTIFY_TIMEOUT_MS=${JSON.stringify(raw)} must be a whole number of 1 or more` };
  return { ok: true, value: Number(t) };
}

/** Reads the notification variables; problems go to `problems`, as loadConfig collects them. */
export function notificationConfig(env: Env, hostName: string, problems: string[]): NotificationConfig {
  const take = <T>(p: Parsed<T>, fallback: T): T => {
    if (p.ok) return p.value;
    problems.push(p.problem);
    return fallback;
  };
  const emailTo = take(recipients(env.ETL_NOTIFICATION_EMAIL), []);
  const from =
    text(env.ETL_NOTIFICATION_FROM) ?? `cases-etl@${hostName.includes('.') ? hostName : `${hostName}.localdomain`}`;
  const fromAddress = /<([^>]+)>\s*$/.exec(from)?.[1] ?? from;
  if (!EMAIL.test(fromAddress))
    problems.push(
      `ETL_NOTIFICATION_FROM=${JSON.stringify(from)} is not an email address (e.g. "cases-etl <etl@school.vic.edu.au>")`,
    );
  return {
    slackWebhookUrl: take(webhook('SLACK_WEBHOOK_URL', env.SLACK_WEBHOOK_URL), null),
    teamsWebhookUrl: take(webhook('TEAMS_WEBHOOK_URL', env.TEAMS_WEBHOOK_URL), null),
    emailTo,
    smtpUrl: take(smtp(env.SMTP_URL, text(env.ETL_NOTIFICATION_EMAIL) !== null), null),
    emailFrom: from,
    on: take(notifyOn(env.ETL_NOTIFY_ON), NOTIFY_ON),
    timeoutMs: take(timeout(env.ETL_NOTIFY_TIMEOUT_MS), 10_000),
  };
}
