import type { Command } from 'commander';

import { EtlError } from '../../errors/index.js';
import type { Delivery } from '../../notify/index.js';
import { loadCliContext, outPalette, type CliIo } from '../context.js';

/** A line on stderr for each notification that could not be delivered: the run's outcome stands. */
export function reportFailedDeliveries(io: CliIo, deliveries: ReadonlyArray<Delivery & { school?: string }>): void {
  for (const d of deliveries.filter((x) => !x.ok)) {
    io.err(
      `warning: the ${d.channel} notification${d.school ? ` for school ${d.school}` : ''} failed after ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}: ${d.error}`,
    );
  }
}

export function registerNotify(program: Command, io: CliIo): void {
  const notify = program.command('notify').description('notification channels (Slack, Teams, email)');
  notify
    .command('test')
    .description('send a test message to every configured channel and say which were reached (exit 1 if any was not)')
    .action(async () => {
      const { config } = await loadCliContext(io);
      const { notifierFor, testNotification } = await import('../../notify/index.js');
      const notifier = notifierFor(config);
      if (notifier.channels.length === 0) {
        throw new EtlError(
          'ETL_USAGE',
          'no notification channel is configured: set SLACK_WEBHOOK_URL, TEAMS_WEBHOOK_URL, or ETL_NOTIFICATION_EMAIL with SMTP_URL',
        );
      }
      const deliveries = await notifier.send(testNotification());
      const palette = outPalette(io);
      for (const d of deliveries)
        io.out(
          `${d.channel.padEnd(6)} ${palette.status(d.ok ? 'sent' : `FAILED after ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}: ${d.error}`)}`,
        );
      io.setExitCode(deliveries.every((d) => d.ok) ? 0 : 1);
    });
}
