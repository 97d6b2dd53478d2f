import { confirmationWindowMs, defaultListId, subscribe } from '@herald/shared';
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
 * subscriptions they left with "unsubscribe from everything" (those whose unsubscribe time is not
 * before the person's own) go back to `pending` with them, so the confirmation makes them active
 * again; lists left earlier, one by one, stay left. With none of those, the default list. The
 * conditional update settles double clicks: only one changes the row.
 */
export async function resubscribe(db: Db, subscriberId: string): Promise<ResubscribeOutcome> {
  // confirmation_sent_at goes back to NULL ("owed a confirmation"), so the reconciler sends it if
  // Redis misses the job; only once the last one is out of the rate-limit window, so unsubscribing
  // and resubscribing in a loop still sends at most one email per window.
  const changed = await db.$transaction(async (tx) => {
    const [person] = await tx.$queryRaw<{ left: Date | null }[]>`
      UPDATE subscribers
      SET status = 'pending', consent_at = now(), consent_source = 'resubscribe-link', confirmed_at = NULL, updated_at = now(),
          confirmation_sent_at = CASE WHEN confirmation_sent_at < ${new Date(Date.now() - confirmationWindowMs)} THEN NULL ELSE confirmation_sent_at END
      WHERE id = ${subscriberId}::uuid AND status = 'unsubscribed'
      RETURNING unsubscribed_at AS left`;
    if (!person) return false;
    const restored = await tx.$executeRaw`
      UPDATE subscriptions
      SET status = 'pending', consent_at = now(), consent_source = 'resubscribe-link', unsubscribed_at = NULL, updated_at = now()
      WHERE subscriber_id = ${subscriberId}::uuid AND status = 'unsubscribed' AND unsubscribed_at >= ${person.left ?? new Date(0)}`;
    if (restored === 0) await subscribe(tx, [subscriberId], [await defaultListId(tx)], { status: 'pending', source: 'form' });
    return true;
  });
  if (changed) return 'confirmation-needed';
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
