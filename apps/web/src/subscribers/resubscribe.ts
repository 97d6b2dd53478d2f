import type { Db, SubscriberStatus } from '@herald/shared';

export type ResubscribeOutcome =
  /** Back to `pending`; a confirmation email must go out. */
  | 'confirmation-needed'
  /** Still waiting for their confirmation; it is sent again (the worker rate-limits it). */
  | 'pending'
  | 'already-subscribed'
  /** Bounced or complained: a link must not undo that (only the person's own new signup could). */
  | 'not-allowed'
  /** No such subscriber, or their state changed under this request. */
  | 'unknown';

/**
 * "Subscribe again" from an unsubscribe link. The person goes back to `pending`, never straight
 * to `active`: they receive nothing but a confirmation email until they confirm again. The
 * conditional update settles double clicks: only one changes the row.
 */
export async function resubscribe(db: Db, subscriberId: string): Promise<ResubscribeOutcome> {
  const changed = await db.subscriber.updateMany({
    where: { id: subscriberId, status: 'unsubscribed' },
    data: { status: 'pending', consentAt: new Date(), consentSource: 'resubscribe-link', confirmedAt: null },
  });
  if (changed.count > 0) return 'confirmation-needed';
  const current = await db.subscriber.findUnique({ where: { id: subscriberId }, select: { status: true } });
  return current ? outcomeFor(current.status) : 'unknown';
}

/** Where a subscriber the update did not change stands. */
function outcomeFor(status: SubscriberStatus): ResubscribeOutcome {
  switch (status) {
    case 'pending':
      return 'pending';
    case 'active':
      return 'already-subscribed';
    case 'bounced':
    case 'complained':
      return 'not-allowed';
    case 'unsubscribed':
      // Unsubscribed by a concurrent request between the two statements: nothing changed here;
      // the page offers "subscribe again" once more.
      return 'unknown';
  }
}
