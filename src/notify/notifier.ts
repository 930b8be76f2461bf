import type { NotificationConfig, RetryConfig } from '../config/index.js';
import { withRetry } from '../util/index.js';
import { emailMessage, slackPayload, teamsPayload } from './channels.js';
import type { Notification } from './message.js';
import { coerceError } from '../errors/index.js';

/**
 * Sends notifications to every configured channel at once, each with its own retries. A channel
 * that cannot be reached is reported in the result, never thrown: telling people is the last
 * step of a run, and a Slack outage must not turn a good night into a failed one.
 */

export type ChannelName = 'slack' | 'teams' | 'email';

export interface Delivery {
  readonly channel: ChannelName;
  readonly ok: boolean;
  readonly attempts: number;
  /** Why it failed; never the webhook URL or the SMTP password. */
  readonly error: string | null;
}

export interface Notifier {
  /** The channels that are configured, in a fixed order. */
  readonly channels: readonly ChannelName[];
  /** Whether this notification should be sent (ETL_NOTIFY_ON; tests always are). */
  wants(n: Notification): boolean;
  /** Sends to every channel; resolves with one delivery per channel. */
  send(n: Notification): Promise<Delivery[]>;
}

/** An answer worth another try: the service is busy or down for a moment. */
class DeliveryError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
  }
}

/** Longest Retry-After honoured; a longer one is capped, not waited out for minutes. */
const MAX_RETRY_AFTER_MS = 30_000;

async function postJson(url: string, body: unknown, timeoutMs: number): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why =
      e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
    throw new DeliveryError(why, true);
  }
  const text = (await res.text().catch(() => '')).trim().slice(0, 200);
  if (res.ok) return;
  const retryAfter = Number(res.headers.get('retry-after'));
  const retryable = res.status === 429 || res.status >= 500;
  throw new DeliveryError(
    `HTTP ${res.status}${text ? `: ${text}` : ''}`,
    retryable,
    Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter * 1000, MAX_RETRY_AFTER_MS) : null,
  );
}

async function sendEmail(config: NotificationConfig, n: Notification): Promise<void> {
  const { createTransport } = await import('nodemailer');
  const t = config.timeoutMs;
  const transport = createTransport({
    url: config.smtpUrl as string,
    connectionTimeout: t,
    greetingTimeout: t,
    socketTimeout: t,
  });
  try {
    await transport.sendMail({ from: config.emailFrom, to: config.emailTo.join(', '), ...emailMessage(n) });
  } catch (err) {
    const e = err as Error & { code?: string; responseCode?: number };
    // 5xx from the server is a permanent refusal (a bad address, relaying denied); the rest may pass.
    const permanent = typeof e.responseCode === 'number' && e.responseCode >= 500;
    throw new DeliveryError(
      `${e.code ? `${e.code}: ` : ''}${e.message.replace(/\/\/[^@/\s]*@/g, '//***@')}`,
      !permanent,
    );
  } finally {
    transport.close();
  }
}

export function createNotifier(config: NotificationConfig, retry: RetryConfig): Notifier {
  const senders: Array<[ChannelName, (n: Notification) => Promise<void>]> = [];
  if (config.slackWebhookUrl) {
    const url = config.slackWebhookUrl;
    senders.push(['slack', (n) => postJson(url, slackPayload(n), config.timeoutMs)]);
  }
  if (config.teamsWebhookUrl) {
    const url = config.teamsWebhookUrl;
    senders.push(['teams', (n) => postJson(url, teamsPayload(n), config.timeoutMs)]);
  }
  if (config.emailTo.length > 0 && config.smtpUrl) senders.push(['email', (n) => sendEmail(config, n)]);

  const deliver = async (
    channel: ChannelName,
    send: (n: Notification) => Promise<void>,
    n: Notification,
  ): Promise<Delivery> => {
    let attempts = 0;
    try {
      await withRetry(
        () => {
          attempts++;
          return send(n);
        },
        {
          ...retry,
          isRetryable: (err) => err instanceof DeliveryError && err.retryable,
          delayFor: (err, delay) => Math.max(delay, (err as DeliveryError).retryAfterMs ?? 0),
        },
      );
      return { channel, ok: true, attempts, error: null };
    } catch (err) {
      return { channel, ok: false, attempts, error: coerceError(err).message };
    }
  };

  return {
    channels: senders.map(([name]) => name),
    wants: (n) => n.event === 'test' || config.on.includes(n.event),
    send: (n) => Promise.all(senders.map(([channel, send]) => deliver(channel, send, n))),
  };
}
