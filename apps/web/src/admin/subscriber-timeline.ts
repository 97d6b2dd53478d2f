import type { SubscriberDataExport } from '../subscribers/export-subscriber-data.js';

export type TimelineEntry = { at: Date; what: string };

const suppressingEvents: Record<string, string> = {
  bounce: 'SendGrid reported a bounce',
  dropped: 'SendGrid dropped a message',
  spamreport: 'Marked an email as spam',
  unsubscribe: 'Unsubscribed through SendGrid',
  group_unsubscribe: 'Unsubscribed through SendGrid',
};

/**
 * A subscriber's status history, oldest first, from what Herald records: the consent record
 * (time and source), the confirmation email and click, the unsubscribe, and the SendGrid events
 * that change a status (bounces, spam reports).
 */
export function subscriberTimeline(data: SubscriberDataExport): TimelineEntry[] {
  const { subscriber } = data;
  const entries: TimelineEntry[] = [{ at: subscriber.createdAt, what: 'Added' }];
  if (subscriber.consentAt) entries.push({ at: subscriber.consentAt, what: `Consent given (${subscriber.consentSource ?? 'unknown source'})` });
  if (subscriber.confirmationSentAt) entries.push({ at: subscriber.confirmationSentAt, what: 'Confirmation email sent (latest)' });
  if (subscriber.confirmedAt) entries.push({ at: subscriber.confirmedAt, what: 'Confirmed: active' });
  if (subscriber.unsubscribedAt) entries.push({ at: subscriber.unsubscribedAt, what: 'Unsubscribed' });
  for (const event of data.events) {
    const what = suppressingEvents[event.type];
    if (what) entries.push({ at: event.occurredAt, what });
  }
  return entries.sort((a, b) => a.at.getTime() - b.at.getTime());
}
