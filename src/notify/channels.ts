import type { Notification, NotificationLevel } from './message.js';

/**
 * How a notification looks on each channel. Slack gets Block Kit (an incoming webhook), Teams an
 * Adaptive Card (a Workflows "post to a channel when a webhook request is received" flow), email
 * a plain-text body with an HTML alternative. Each is a pure function of the notification.
 */

const EMOJI: Record<NotificationLevel, string> = { success: '✅', warning: '⚠️', error: '❌', info: 'ℹ️' };
const TEAMS_COLOUR: Record<NotificationLevel, string> = {
  success: 'Good',
  warning: 'Warning',
  error: 'Attention',
  info: 'Accent',
};

/** Slack's mrkdwn treats these three as control characters. */
const slackEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const clip = (s: string, max: number): string => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

/** A Block Kit message: header, summary, up to ten facts per section, details, a context line. */
export function slackPayload(n: Notification): Record<string, unknown> {
  const blocks: Array<Record<string, unknown>> = [
    // Header text is plain text of at most 150 characters; section text at most 3,000.
    { type: 'header', text: { type: 'plain_text', text: clip(`${EMOJI[n.level]} ${n.title}`, 150), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: clip(slackEscape(n.summary), 3000) } },
  ];
  for (let i = 0; i < n.facts.length; i += 10) {
    blocks.push({
      type: 'section',
      fields: n.facts
        .slice(i, i + 10)
        .map(([k, v]) => ({ type: 'mrkdwn', text: clip(`*${slackEscape(k)}*\n${slackEscape(v)}`, 2000) })),
    });
  }
  if (n.details.length > 0)
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: clip(n.details.map((d) => `• ${slackEscape(d)}`).join('\n'), 3000) },
    });
  if (n.link)
    blocks.push({
      type: 'actions',
      elements: [{ type: 'button', text: { type: 'plain_text', text: n.link.label }, url: n.link.url }],
    });
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: 'cases-etl' }] });
  // `text` is what notifications and screen readers show.
  return { text: `${EMOJI[n.level]} ${n.title}: ${n.summary}`, blocks };
}

/** A Teams Workflows webhook body: one message carrying an Adaptive Card 1.4. */
export function teamsPayload(n: Notification): Record<string, unknown> {
  const body: Array<Record<string, unknown>> = [
    {
      type: 'TextBlock',
      text: `${EMOJI[n.level]} ${n.title}`,
      weight: 'Bolder',
      size: 'Medium',
      color: TEAMS_COLOUR[n.level],
      wrap: true,
    },
    { type: 'TextBlock', text: n.summary, wrap: true },
    { type: 'FactSet', facts: n.facts.map(([title, value]) => ({ title, value })) },
  ];
  if (n.details.length > 0)
    body.push({ type: 'TextBlock', text: n.details.map((d) => `- ${d}`).join('\n'), wrap: true, spacing: 'Medium' });
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          msteams: { width: 'Full' },
          body,
          ...(n.link ? { actions: [{ type: 'Action.OpenUrl', title: n.link.label, url: n.link.url }] } : {}),
        },
      },
    ],
  };
}

const html = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** An email: subject, text body and an HTML alternative. */
export function emailMessage(n: Notification): { subject: string; text: string; html: string } {
  const width = Math.max(...n.facts.map(([k]) => k.length), 0);
  const text = [
    n.summary,
    '',
    ...n.facts.map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${v}`),
    ...(n.details.length > 0 ? ['', ...n.details.map((d) => `- ${d}`)] : []),
    ...(n.link ? ['', `${n.link.label}: ${n.link.url}`] : []),
    '',
    '-- cases-etl',
  ].join('\n');
  const body = [
    `<p>${html(n.summary)}</p>`,
    `<table>${n.facts.map(([k, v]) => `<tr><th align="left">${html(k)}</th><td>${html(v)}</td></tr>`).join('')}</table>`,
    ...(n.details.length > 0 ? [`<ul>${n.details.map((d) => `<li>${html(d)}</li>`).join('')}</ul>`] : []),
    ...(n.link ? [`<p><a href="${html(n.link.url)}">${html(n.link.label)}</a></p>`] : []),
    '<p style="color:#666">cases-etl</p>',
  ].join('\n');
  return {
    subject: `[cases-etl] ${EMOJI[n.level]} ${n.title}`,
    text,
    html: `<!doctype html><html><body>\n<h2>${html(n.title)}</h2>\n${body}\n</body></html>`,
  };
}
