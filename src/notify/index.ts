/**
 * Notifications: the last step of a run, telling people what happened on Slack, Teams and email.
 * Messages carry ids, counts, codes and file names, never personal data.
 */
import type { Config } from '../config/index.js';
import { runNotification, type RunForNotice } from './message.js';
import { createNotifier, type Delivery, type Notifier } from './notifier.js';

export { emailMessage, slackPayload, teamsPayload } from './channels.js';
export {
  jobFailureNotification,
  nightNotification,
  rollbackNotification,
  runLink,
  runNotification,
  testNotification,
  type Notification,
  type NotificationLevel,
  type NotifyEvent,
  type RollbackForNotice,
  type RunForNotice,
} from './message.js';
export { createNotifier, type ChannelName, type Delivery, type Notifier } from './notifier.js';

/** A delivery, with the school it was about. */
export interface SchoolDelivery extends Delivery {
  readonly school: string;
}

/** The notifier the configuration describes (one with no channels when none is set). */
export function notifierFor(config: Config): Notifier {
  return createNotifier(config.notifications, config.retry);
}

/** Tells every channel about each finished run (not skipped runs or dry runs), as ETL_NOTIFY_ON says. */
export async function notifyRuns(
  notifier: Notifier,
  runs: readonly RunForNotice[],
  trigger: string,
  publicUrl: string | null = null,
): Promise<SchoolDelivery[]> {
  if (notifier.channels.length === 0) return [];
  const out: SchoolDelivery[] = [];
  for (const run of runs) {
    if (run.status === 'skipped' || run.dryRun) continue;
    const n = runNotification(run, trigger, publicUrl);
    if (!notifier.wants(n)) continue;
    for (const d of await notifier.send(n)) out.push({ ...d, school: run.school });
  }
  return out;
}
