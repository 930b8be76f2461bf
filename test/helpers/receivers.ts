import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/**
 * Real receivers on loopback for the notification tests: an HTTP endpoint standing in for a Slack
 * or Teams webhook, and an SMTP server standing in for the school's mail relay.
 */

export interface WebhookRequest {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
  readonly raw: string;
  readonly at: number;
}

/** How the webhook answers its n-th request (0-based): a status (and headers), or never. */
export type Answer = { status: number; body?: string; headers?: Record<string, string> } | 'hang';

export interface Webhook {
  /** The URL to configure, with a secret-looking path as the real ones have. */
  readonly url: string;
  readonly requests: WebhookRequest[];
  close(): Promise<void>;
}

export async function startWebhook(
  answer: (n: number) => Answer = () => ({ status: 200, body: 'ok' }),
): Promise<Webhook> {
  const requests: WebhookRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const a = answer(requests.length);
      requests.push({
        path: req.url ?? '',
        headers: req.headers,
        body: JSON.parse(raw) as Record<string, unknown>,
        raw,
        at: Date.now(),
      });
      if (a === 'hang') return;
      res.writeHead(a.status, { 'content-type': 'text/plain', ...a.headers }).end(a.body ?? '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/services/T0SCHOOL/B0ETL/secret-token-${port}`,
    requests,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface Mailbox {
  readonly url: string;
  readonly messages: Array<{ envelope: { from: string; to: string[] }; mail: ParsedMail }>;
  close(): Promise<void>;
}

/** An SMTP server that accepts every message (no TLS, no authentication) and parses it. */
export async function startMailbox(): Promise<Mailbox> {
  const messages: Mailbox['messages'] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((mail) => {
          const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
          messages.push({ envelope: { from, to: session.envelope.rcptTo.map((r) => r.address) }, mail });
          callback();
        })
        .catch((err: Error) => callback(err));
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.server.address() as AddressInfo;
  return { url: `smtp://127.0.0.1:${port}`, messages, close: () => new Promise((r) => server.close(() => r())) };
}

/** A Slack message's block, as the tests read it. */
export interface SlackBlock {
  type: string;
  text?: { text: string };
  fields?: Array<{ text: string }>;
}

/** Every text of a Slack message's blocks, a line each: what a person would read. */
export const slackText = (body: Record<string, unknown>): string =>
  (body.blocks as SlackBlock[])
    .map((b) => [b.text?.text ?? '', ...(b.fields ?? []).map((f) => f.text)].join('\n'))
    .join('\n');
