import { rm } from 'node:fs/promises';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { Queue } from 'bullmq';

import { createApp, startWorker, triggerEtl } from '../src/app/index.js';
import { loadConfig } from '../src/config/index.js';
import { registerSchedule, SCHEDULER_ID, startInProcessScheduler } from '../src/jobs/index.js';
import { createLogger } from '../src/observability/logger.js';
import {
  createNotifier,
  nightNotification,
  runNotification,
  slackPayload,
  testNotification,
} from '../src/notify/index.js';
import { rollbackRun, runEtl } from '../src/pipeline/index.js';
import { runCli } from './helpers/cli.js';
import { eventually, jobApp, obliterate, settledJob, startFlakyProxy, uniquePrefix } from './helpers/jobs.js';
import { copySample, editCsv, readCsv } from './helpers/nights.js';
import {
  slackText,
  startMailbox,
  startWebhook,
  type Answer,
  type Mailbox,
  type SlackBlock,
  type Webhook,
} from './helpers/receivers.js';
import { createTarget, DIALECTS, type Target } from './helpers/targets.js';

const TO = 'it-team@school.example.edu.au';

/** Every text a message carried, to look for what must not be there. */
function everything(slack: Webhook, teams: Webhook, mailbox: Mailbox): string {
  return [
    ...slack.requests.map((r) => r.raw),
    ...teams.requests.map((r) => r.raw),
    ...mailbox.messages.map(
      (m) => `${m.mail.subject ?? ''}\n${m.mail.text ?? ''}\n${typeof m.mail.html === 'string' ? m.mail.html : ''}`,
    ),
  ].join('\n');
}

interface Card {
  type: string;
  version: string;
  body: Array<{ type: string; text?: string; facts?: Array<{ title: string; value: string }> }>;
}
const cardOf = (body: Record<string, unknown>): Card => {
  const [attachment] = body.attachments as Array<{ contentType: string; content: Card }>;
  expect(attachment?.contentType).toBe('application/vnd.microsoft.card.adaptive');
  return (attachment as { content: Card }).content;
};

describe.each(DIALECTS)('notifications of a night on %s', (dialect) => {
  let target: Target;
  let slack: Webhook;
  let teams: Webhook;
  let mailbox: Mailbox;
  let src: string;
  let env: Record<string, string>;

  beforeEach(async () => {
    target = await createTarget(dialect);
    [slack, teams, mailbox] = await Promise.all([
      startWebhook(),
      startWebhook(() => ({ status: 202 })),
      startMailbox(),
    ]);
    src = join(target.dir, 'export');
    await copySample(src);
    env = {
      CASES_DIRECTORY: src,
      SLACK_WEBHOOK_URL: slack.url,
      TEAMS_WEBHOOK_URL: teams.url,
      ETL_NOTIFICATION_EMAIL: TO,
      SMTP_URL: mailbox.url,
      ETL_NOTIFICATION_FROM: 'cases-etl <etl@school.example.edu.au>',
    };
  });
  afterEach(() => Promise.all([slack.close(), teams.close(), mailbox.close(), target.cleanup()]));

  it('tells Slack, Teams and email of a night with rejected rows: counts and files, no personal data', async () => {
    const st = join(src, 'ST_8865.csv');
    const before = await readCsv(st);
    const bad = [3, 7, 11];
    await editCsv(st, (rows, col) =>
      rows.map((r, i) =>
        bad.includes(i) ? Object.assign([...r], { [col('BIRTHDATE')]: '31/02/2011 12:00:00 AM' }) : r,
      ),
    );

    const result = await runEtl({ config: target.config(env), trigger: 'cli' });

    expect(result.status).toBe('warning');
    expect(result.notifications.map((d) => [d.channel, d.ok, d.school])).toEqual([
      ['slack', true, '8865'],
      ['teams', true, '8865'],
      ['email', true, '8865'],
    ]);
    const runId = String(result.runId);

    expect(slack.requests).toHaveLength(1);
    const s = slack.requests[0]?.body as Record<string, unknown>;
    expect(slack.requests[0]?.headers['content-type']).toBe('application/json');
    expect((s.blocks as SlackBlock[])[0]).toMatchObject({
      type: 'header',
      text: { text: expect.stringContaining('CASES21 data for school 8865 loaded, with rejected rows') },
    });
    expect(s.text).toEqual(expect.stringContaining(`Run ${runId} (cli)`));
    const st8865 = slackText(s);
    expect(st8865).toContain('*Rejected*\n3 (');
    expect(st8865).toContain(
      'ST_8865.csv (ST): 3 rows rejected: 3 × ETL_TYPE_DATE_INVALID (A date does not exist in the calendar)',
    );
    expect(st8865).toContain(`*Run*\n${runId}`);

    const card = cardOf(teams.requests[0]?.body as Record<string, unknown>);
    expect(card).toMatchObject({ type: 'AdaptiveCard', version: '1.4' });
    const facts = card.body.find((b) => b.type === 'FactSet')?.facts ?? [];
    expect(facts).toContainEqual({ title: 'School', value: '8865' });
    expect(facts).toContainEqual({ title: 'Status', value: 'warning' });
    expect(facts.find((f) => f.title === 'Rejected')?.value).toMatch(/^3 \(/);

    expect(mailbox.messages).toHaveLength(1);
    const mail = mailbox.messages[0] as Mailbox['messages'][number];
    expect(mail.envelope).toEqual({ from: 'etl@school.example.edu.au', to: [TO] });
    expect(mail.mail.subject).toBe('[cases-etl] ⚠️ CASES21 data for school 8865 loaded, with rejected rows');
    expect(mail.mail.text).toContain('ST_8865.csv (ST): 3 rows rejected');
    expect(mail.mail.html).toContain('<th align="left">Inserted</th>');

    // The rejected students' names and birth dates, and every surname in the file, stay out.
    const sent = everything(slack, teams, mailbox);
    const col = (name: string): number => before.header.indexOf(name);
    const personal = before.rows
      .flatMap((r) => [r[col('SURNAME')], r[col('FIRST_NAME')]])
      .filter((v): v is string => !!v && v.length >= 3);
    expect(personal.length).toBeGreaterThan(100);
    for (const value of [...new Set(personal)]) expect(sent.includes(value), `${value} was sent`).toBe(false);
    expect(sent).not.toContain('31/02/2011');
  });

  it('tells of a failed night as an error, and ETL_NOTIFY_ON=failed keeps a good night quiet', async () => {
    const quiet = await runEtl({ config: target.config({ ...env, ETL_NOTIFY_ON: 'failed' }), trigger: 'schedule' });
    expect(quiet.status).toBe('succeeded');
    expect(quiet.notifications).toEqual([]);
    expect(slack.requests).toHaveLength(0);

    const { rm } = await import('node:fs/promises');
    await rm(join(src, 'SF_8865.csv'));
    const failed = await runEtl({ config: target.config({ ...env, ETL_NOTIFY_ON: 'failed' }), trigger: 'schedule' });
    expect(failed.status).toBe('failed');
    expect(failed.notifications.every((d) => d.ok)).toBe(true);
    const text = slackText(slack.requests[0]?.body as Record<string, unknown>);
    expect(text).toContain('❌ CASES21 load of school 8865 failed: nothing was published');
    expect(text).toMatch(/SF/);
    expect(mailbox.messages[0]?.mail.subject).toContain('failed: nothing was published');
  });

  it('tells of a rollback once it is done, and not of a dry run', async () => {
    const loaded = await runEtl({ config: target.config({ ...env, ETL_NOTIFY_ON: 'rolled_back' }) });
    expect(loaded.notifications).toEqual([]);
    const config = target.config(env);
    const dry = await rollbackRun(loaded.runId as number, { config, dryRun: true, requestedBy: 'api:ops' });
    expect(dry.notifications).toEqual([]);
    const undone = await rollbackRun(loaded.runId as number, { config, requestedBy: 'api:ops' });
    expect(undone.notifications.map((d) => d.ok)).toEqual([true, true, true]);
    const text = slackText(slack.requests[0]?.body as Record<string, unknown>);
    expect(text).toContain(`school 8865 rolled back`);
    expect(text).toContain(`*Rows removed*\n${undone.rowsDeleted.toLocaleString('en-AU')}`);
    expect(text).toContain('*Requested by*\napi:ops');
  });

  it('links to the run on the dashboard when ETL_PUBLIC_URL is set; a rollback says why, cut and cleaned', async () => {
    const plain = await runEtl({ config: target.config(env) });
    expect((slack.requests[0]?.body as { blocks: SlackBlock[] }).blocks.some((b) => b.type === 'actions')).toBe(false);
    await rm(join(src, 'SF_8865.csv'));
    const linked = { ...env, ETL_PUBLIC_URL: 'https://etl.school.example.edu.au/' };
    const failed = await runEtl({ config: target.config(linked) });
    expect(failed.status).toBe('failed');
    const url = `https://etl.school.example.edu.au/dashboard#run=${failed.runId}`;
    const blocks = (slack.requests[1]?.body as { blocks: Array<SlackBlock & { elements?: unknown[] }> }).blocks;
    expect(blocks.find((b) => b.type === 'actions')?.elements).toEqual([
      { type: 'button', text: { type: 'plain_text', text: 'View run' }, url },
    ]);
    const card = cardOf(teams.requests[1]?.body as Record<string, unknown>) as Card & { actions?: unknown[] };
    expect(card.actions).toEqual([{ type: 'Action.OpenUrl', title: 'View run', url }]);
    expect(mailbox.messages[1]?.mail.text).toContain(`View run: ${url}`);
    expect(mailbox.messages[1]?.mail.html).toContain(`<a href="${url}">View run</a>`);

    const reason = `export from the wrong school\u0007\nsee ticket 4411 ${'x'.repeat(400)}`;
    const undone = await rollbackRun(plain.runId as number, {
      config: target.config(linked),
      requestedBy: 'cli:ops',
      reason,
    });
    expect(undone.notifications.map((d) => d.ok)).toEqual([true, true, true]);
    const text = slackText(slack.requests[2]?.body as Record<string, unknown>);
    const said = /\*Reason\*\n([^\n]*)/.exec(text)?.[1] ?? '';
    expect(said.startsWith('export from the wrong school see ticket 4411 xxx')).toBe(true);
    expect(said.endsWith('…')).toBe(true);
    expect(said.length).toBeLessThanOrEqual(200);
    expect([...said].some((c) => c.charCodeAt(0) < 0x20)).toBe(false);
    const undoneBlocks = (slack.requests[2]?.body as { blocks: Array<SlackBlock & { elements?: unknown[] }> }).blocks;
    expect(undoneBlocks.find((b) => b.type === 'actions')?.elements).toEqual([
      {
        type: 'button',
        text: { type: 'plain_text', text: 'View run' },
        url: `https://etl.school.example.edu.au/dashboard#run=${plain.runId}`,
      },
    ]);
  });
});

describe('delivery', () => {
  const open: Webhook[] = [];
  afterEach(async () => void (await Promise.all(open.splice(0).map((w) => w.close()))));
  const hook = async (answer: (n: number) => Answer): Promise<Webhook> => {
    const w = await startWebhook(answer);
    open.push(w);
    return w;
  };
  const notifier = (env: Record<string, string>) => {
    const config = loadConfig({ ETL_RETRY_DELAY_MS: '50', ...env });
    return createNotifier(config.notifications, config.retry);
  };

  it('retries a 500, waits out a 429 with Retry-After, and does not retry a 400', async () => {
    const flaky = await hook((n) => (n === 0 ? { status: 500, body: 'internal_error' } : { status: 200, body: 'ok' }));
    const limited = await hook((n) => (n === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 202 }));
    const wrong = await hook(() => ({ status: 400, body: 'invalid_blocks' }));
    const [slack, teams] = await notifier({ SLACK_WEBHOOK_URL: flaky.url, TEAMS_WEBHOOK_URL: limited.url }).send(
      testNotification(),
    );
    expect(slack).toEqual({ channel: 'slack', ok: true, attempts: 2, error: null });
    expect(teams).toEqual({ channel: 'teams', ok: true, attempts: 2, error: null });
    const [first, second] = limited.requests;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(950);

    const [refused] = await notifier({ SLACK_WEBHOOK_URL: wrong.url }).send(testNotification());
    expect(refused).toEqual({ channel: 'slack', ok: false, attempts: 1, error: 'HTTP 400: invalid_blocks' });
    expect(wrong.requests).toHaveLength(1);
  });

  it('gives up on a webhook that never answers after its timeout, on every attempt', async () => {
    const silent = await hook(() => 'hang');
    const started = Date.now();
    const [d] = await notifier({
      SLACK_WEBHOOK_URL: silent.url,
      ETL_NOTIFY_TIMEOUT_MS: '300',
      ETL_RETRY_ATTEMPTS: '2',
    }).send(testNotification());
    expect(d).toEqual({ channel: 'slack', ok: false, attempts: 2, error: 'no answer within 300 ms' });
    expect(silent.requests).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('reports a refused connection and an SMTP server that is not there, without the secret URL', async () => {
    const gone = await hook(() => ({ status: 200 }));
    await gone.close();
    open.splice(0);
    const deliveries = await notifier({
      SLACK_WEBHOOK_URL: gone.url,
      ETL_NOTIFICATION_EMAIL: TO,
      SMTP_URL: `smtp://etl:hunter2secret@127.0.0.1:${new URL(gone.url).port}`,
      ETL_RETRY_ATTEMPTS: '2',
    }).send(testNotification());
    expect(deliveries.map((d) => [d.channel, d.ok, d.attempts])).toEqual([
      ['slack', false, 2],
      ['email', false, 2],
    ]);
    expect(deliveries[0]?.error).toBe('ECONNREFUSED');
    expect(deliveries[1]?.error).toMatch(/ECONNREFUSED|ESOCKET|ECONNECTION/);
    for (const d of deliveries) expect(`${d.error}`).not.toMatch(/secret|hunter2/);
  });

  it('keeps Slack messages within Block Kit limits and escapes its control characters; lists at most eight details', () => {
    const errors = Array.from({ length: 20 }, (_, i) => `file_${i}.csv: <header> & ${'x'.repeat(400)}`);
    const n = runNotification(
      {
        runId: 7,
        school: 'A'.repeat(200),
        status: 'failed',
        dryRun: false,
        reason: 'r'.repeat(4000),
        stats: {
          files: 20,
          records: 0,
          rows: 0,
          rejected: 0,
          durationMs: 5,
          inserted: 0,
          updated: 0,
          deactivated: 0,
          reactivated: 0,
          held: 0,
          deferred: 0,
        },
        tables: [],
        errors,
      },
      'cli',
    );
    expect(n.details).toHaveLength(8);
    expect(n.details[7]).toBe('… and 14 more (cases-etl runs --id 7, or the run on the dashboard)');
    expect(Math.max(...n.details.map((d) => d.length))).toBe(300);
    const blocks = slackPayload({ ...n, facts: [...n.facts, ...n.facts] }).blocks as SlackBlock[];
    expect((blocks[0]?.text?.text ?? '').length).toBeLessThanOrEqual(150);
    for (const b of blocks) {
      expect((b.fields ?? []).length).toBeLessThanOrEqual(10);
      expect((b.text?.text ?? '').length).toBeLessThanOrEqual(3000);
    }
    expect(blocks.filter((b) => b.fields)).toHaveLength(2);
    const details = blocks.find((b) => b.text?.text.startsWith('• '))?.text?.text ?? '';
    expect(details).toContain('&lt;header&gt; &amp; x');
    expect(details).not.toContain('<header>');
  });

  it('says a failed run would have changed rows, never that it did; held and deferred rows are counted', () => {
    const stats = {
      files: 2,
      records: 10,
      rows: 9,
      rejected: 1,
      durationMs: 5,
      inserted: 3,
      updated: 2,
      deactivated: 280,
      reactivated: 0,
      held: 1,
      deferred: 4,
    };
    const failed = runNotification(
      { runId: 3, school: '8865', status: 'failed', dryRun: false, reason: 'guard', stats, tables: [], errors: [] },
      'cli',
    );
    const titles = failed.facts.map(([t]) => t);
    expect(titles).toContain('Would have marked inactive');
    expect(titles).not.toContain('Marked inactive');
    expect(failed.facts).toContainEqual(['Would have marked inactive', '280']);
    const warned = runNotification(
      { runId: 4, school: '8865', status: 'warning', dryRun: false, reason: null, stats, tables: [], errors: [] },
      'cli',
    );
    expect(warned.facts).toContainEqual(['Marked inactive', '280']);
    expect(warned.facts).toContainEqual(['Held (rejected, kept as they were)', '1']);
    expect(warned.facts).toContainEqual(['Deactivations deferred', '4']);
  });

  it('says a nightly job given up while queueing stopped part-way, not that the night loaded nothing', () => {
    const problem =
      "ETL_JOB_STALLED: the worker running job 7 stopped before it finished, 2 times; the schools' runs it had queued before that still run";
    const partial = nightNotification({ night: '2026-03-02', folder: '/exports', problem, partial: true });
    expect(partial.title).toBe('CASES21 nightly run stopped while queueing schools');
    expect(partial.summary).toContain('the runs it queued still run');
    expect(partial.summary).not.toContain('started no');
    expect(partial.details).toEqual([problem]);
    const none = nightNotification({ night: '2026-03-02', folder: null, problem: 'no CASES21 files were found' });
    expect(none.title).toBe('CASES21 nightly run loaded nothing');
    expect(none.summary).toContain("started no school's run");
  });

  it('sends only the outcomes ETL_NOTIFY_ON names; a test is always sent', () => {
    const n = notifier({
      SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/x',
      ETL_NOTIFY_ON: 'failed, rolled_back',
    });
    const run = (status: 'succeeded' | 'warning' | 'failed') =>
      runNotification(
        {
          runId: 1,
          school: '8865',
          status,
          dryRun: false,
          reason: null,
          stats: {
            files: 1,
            records: 1,
            rows: 1,
            rejected: 0,
            durationMs: 1,
            inserted: 1,
            updated: 0,
            deactivated: 0,
            reactivated: 0,
            held: 0,
            deferred: 0,
          },
          tables: [],
          errors: [],
        },
        'cli',
      );
    expect([
      n.wants(run('succeeded')),
      n.wants(run('warning')),
      n.wants(run('failed')),
      n.wants(testNotification()),
    ]).toEqual([false, false, true, true]);
    expect(n.channels).toEqual(['slack']);
  });
});

describe('notification configuration', () => {
  it('reports every problem at once, never echoing a webhook URL', () => {
    let message = '';
    try {
      loadConfig({
        SLACK_WEBHOOK_URL: 'hooks.slack.com/services/T0/B0/sekrit',
        TEAMS_WEBHOOK_URL: 'ftp://example.org/x',
        ETL_NOTIFICATION_EMAIL: 'it@school.example.edu.au, not-an-address',
        ETL_NOTIFY_ON: 'failed,sometimes',
        ETL_NOTIFY_TIMEOUT_MS: '0',
      });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('configuration has 6 problems');
    expect(message).toContain('SLACK_WEBHOOK_URL is not a URL');
    expect(message).toContain('TEAMS_WEBHOOK_URL must be an https:// URL');
    expect(message).toContain('"not-an-address", which is not an email address');
    expect(message).toContain('ETL_NOTIFICATION_EMAIL is set but SMTP_URL is not');
    expect(message).toContain('ETL_NOTIFY_ON has "sometimes"');
    expect(message).toContain('ETL_NOTIFY_TIMEOUT_MS="0"');
    expect(message).not.toContain('sekrit');
  });

  it('is off unless a channel is set', () => {
    const c = loadConfig({});
    expect(createNotifier(c.notifications, c.retry).channels).toEqual([]);
    expect(c.notifications.on).toEqual(['succeeded', 'warning', 'failed', 'rolled_back']);
    expect(loadConfig({ ETL_NOTIFY_ON: 'none' }).notifications.on).toEqual([]);
  });
});

describe('cases-etl notify test', () => {
  let slack: Webhook;
  let teams: Webhook;
  let mailbox: Mailbox;
  beforeEach(
    async () =>
      void ([slack, teams, mailbox] = await Promise.all([
        startWebhook(),
        startWebhook(() => ({ status: 202 })),
        startMailbox(),
      ])),
  );
  afterEach(() => Promise.all([slack.close(), teams.close(), mailbox.close()]));

  it('reaches every configured channel and says so', async () => {
    const r = await runCli(['notify', 'test'], {
      SLACK_WEBHOOK_URL: slack.url,
      TEAMS_WEBHOOK_URL: teams.url,
      ETL_NOTIFICATION_EMAIL: TO,
      SMTP_URL: mailbox.url,
    });
    expect(r.stdout.trim().split('\n')).toEqual(['slack  sent', 'teams  sent', 'email  sent']);
    expect(r.code).toBe(0);
    expect(slackText(slack.requests[0]?.body as Record<string, unknown>)).toContain('cases-etl test notification');
    expect(cardOf(teams.requests[0]?.body as Record<string, unknown>).body[0]?.text).toContain(
      'cases-etl test notification',
    );
    expect(mailbox.messages[0]?.mail.text).toContain('If you can read this, cases-etl can reach this channel.');
  });

  it('exits 1 naming the channel it could not reach, and 2 when none is configured', async () => {
    const closed = await startWebhook();
    await closed.close();
    const r = await runCli(['notify', 'test'], {
      SLACK_WEBHOOK_URL: slack.url,
      TEAMS_WEBHOOK_URL: closed.url,
      ETL_RETRY_ATTEMPTS: '1',
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('slack  sent');
    expect(r.stdout).toContain('teams  FAILED after 1 attempt: ECONNREFUSED');
    expect(r.stdout + r.stderr).not.toContain('secret-token');

    const none = await runCli(['notify', 'test'], {});
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no notification channel is configured');
  });
});

describe('a job that could not run at all', () => {
  let target: Target;
  let prefix: string;
  let slack: Webhook;
  beforeEach(async () => {
    target = await createTarget('postgres');
    prefix = uniquePrefix();
    slack = await startWebhook();
  });
  afterEach(async () => {
    await obliterate(prefix);
    await target.cleanup();
    await slack.close();
  });

  it('tells of a scheduled night that found no export to load', async () => {
    const { mkdir } = await import('node:fs/promises');
    const empty = join(target.dir, 'empty-export');
    await mkdir(empty);
    const a = await jobApp(target, {
      CASES_DIRECTORY: empty,
      ETL_QUEUE_PREFIX: prefix,
      ETL_SCHEDULE: '* * * * * *',
      ETL_SCHEDULE_SECONDS: 'true',
      SLACK_WEBHOOK_URL: slack.url,
    });
    const w = startWorker(a);
    try {
      await registerSchedule(a.queue as Queue, a.config.jobs);
      await eventually(async () => (slack.requests.length > 0 ? true : undefined), 15_000, 'the Slack message');
      await (a.queue as Queue).removeJobScheduler(SCHEDULER_ID);
      const text = slackText(slack.requests[0]?.body as Record<string, unknown>);
      expect(text).toContain('❌ CASES21 nightly run loaded nothing');
      expect(text).toContain(`*Export folder*\n${empty}`);
      expect(text).toContain('no CASES21 files were found in the export folder');
      expect(await a.store.listRuns({ limit: 5 })).toEqual([]);
    } finally {
      await w.stop();
      await a.stop();
    }
  });

  it('is told once, after its last attempt, when the database stays down', async () => {
    const proxy = await startFlakyProxy();
    const src = join(target.dir, 'export');
    await copySample(src);
    const url = target.env.DATABASE_URL?.replace('127.0.0.1:5432', `127.0.0.1:${proxy.port}`) as string;
    const a = await jobApp(target, {
      DATABASE_URL: url,
      CASES_DIRECTORY: src,
      ETL_QUEUE_PREFIX: prefix,
      ETL_JOB_BACKOFF_MS: '100',
      ETL_JOB_ATTEMPTS: '2',
      ETL_RETRY_ATTEMPTS: '1',
      SLACK_WEBHOOK_URL: slack.url,
    });
    const w = startWorker(a);
    try {
      proxy.fail(1_000_000);
      const { jobs } = await triggerEtl({ app: a, school: '8865' });
      const failed = await settledJob(a.queue as Queue, jobs[0]?.jobId as string, 'failed');
      expect(failed.attemptsMade).toBe(2);
      await eventually(async () => (slack.requests.length > 0 ? true : undefined), 10_000, 'the Slack message');
      await new Promise((r) => setTimeout(r, 300));
      expect(slack.requests).toHaveLength(1);
      const text = slackText(slack.requests[0]?.body as Record<string, unknown>);
      expect(text).toContain('❌ CASES21 load of school 8865 could not run');
      expect(text).toContain('The run gave up after 2 attempts');
      expect(text).toContain(`*Job*\n${jobs[0]?.jobId}`);
    } finally {
      await w.stop();
      await a.stop();
      await proxy.close();
    }
  });
});

describe('the in-process schedule (no Redis)', () => {
  let target: Target;
  let slack: Webhook;
  beforeEach(async () => {
    target = await createTarget('sqlite');
    slack = await startWebhook();
  });
  afterEach(() => Promise.all([target.cleanup(), slack.close()]));

  it('tells of a night whose export folder is empty, as the queue does', async () => {
    const { mkdir } = await import('node:fs/promises');
    const empty = join(target.dir, 'empty-export');
    await mkdir(empty);
    const app = await createApp(
      target.config({
        CASES_DIRECTORY: empty,
        ETL_SCHEDULE: '* * * * * *',
        ETL_SCHEDULE_SECONDS: 'true',
        SLACK_WEBHOOK_URL: slack.url,
      }),
      { logger: createLogger({ level: 'silent' }) },
    );
    expect(app.queue).toBeNull();
    const scheduler = startInProcessScheduler(app, app.logger);
    try {
      await eventually(async () => (slack.requests.length > 0 ? true : undefined), 15_000, 'the Slack message');
    } finally {
      await scheduler.stop();
      await app.stop();
    }
    const text = slackText(slack.requests[0]?.body as Record<string, unknown>);
    expect(text).toContain('❌ CASES21 nightly run loaded nothing');
    expect(text).toContain('no CASES21 files were found in the export folder');
  });
});
