import { createHash } from 'node:crypto';
import { activatePendingSubscriptions, queueWelcomeEmails } from '@herald/shared';
import type { Db } from '@herald/shared';

export type ConfirmOutcome = 'confirmed' | 'already-confirmed' | 'expired' | 'unknown';
export type ConfirmTokenState = 'valid' | 'already-confirmed' | 'expired' | 'unknown';

/** Confirmation tokens are 256 random bits in base64url; anything else is not worth a query. */
const tokenShape = /^[A-Za-z0-9_-]{43}$/;

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * What a confirmation link points at, without changing anything (for the GET page). A link that
 * already confirmed its subscriber says so while they are still subscribed; it reveals nothing
 * to anyone but the holder of the emailed token.
 */
export async function inspectConfirmToken(db: Db, token: string): Promise<ConfirmTokenState> {
  if (!tokenShape.test(token)) return 'unknown';
  const hash = hashToken(token);
  const subscriber = await db.subscriber.findFirst({
    where: { OR: [{ confirmTokenHash: hash }, { usedConfirmTokenHash: hash }] },
    select: { status: true, confirmTokenHash: true, confirmTokenExpiresAt: true },
  });
  if (!subscriber) return 'unknown';
  if (subscriber.confirmTokenHash !== hash) return subscriber.status === 'active' ? 'already-confirmed' : 'unknown';
  // A confirmed person may still hold a live link: it confirms lists they asked for since.
  if (subscriber.status !== 'pending' && subscriber.status !== 'active') return 'unknown';
  return subscriber.confirmTokenExpiresAt && subscriber.confirmTokenExpiresAt > new Date() ? 'valid' : 'expired';
}

/**
 * Confirms an address and, in the same transaction, every subscription the person asked for and
 * has not confirmed yet (double opt-in confirms them all in one click), recording their welcome
 * emails; the caller enqueues the returned ids after the commit. The link also serves a person
 * whose address was confirmed before and who has since asked for a double opt-in list.
 *
 * The token works once: the conditional update clears it, so a second POST (or a concurrent one)
 * changes nothing and is told the subscription is already confirmed; the welcome emails' unique
 * key means a double confirmation never owes a second one. The person's row is locked before their
 * subscriptions, the order every writer of both keeps.
 */
export async function confirmSubscription(db: Db, token: string): Promise<{ outcome: ConfirmOutcome; welcomeEmailIds: string[] }> {
  if (!tokenShape.test(token)) return { outcome: 'unknown', welcomeEmailIds: [] };
  const hash = hashToken(token);
  const confirmed = await db.$transaction(async (tx) => {
    const [person] = await tx.$queryRaw<{ id: string }[]>`
      UPDATE subscribers
      SET status = 'active', confirmed_at = CASE WHEN status = 'pending' THEN now() ELSE confirmed_at END,
          confirm_token_hash = NULL, confirm_token_expires_at = NULL, used_confirm_token_hash = ${hash}, updated_at = now()
      WHERE confirm_token_hash = ${hash} AND status IN ('pending', 'active') AND confirm_token_expires_at > now()
      RETURNING id`;
    if (!person) return null;
    const activated = await activatePendingSubscriptions(tx, [person.id]);
    return queueWelcomeEmails(tx, activated);
  });
  if (confirmed) return { outcome: 'confirmed', welcomeEmailIds: confirmed };
  const state = await inspectConfirmToken(db, token);
  return { outcome: state === 'valid' ? 'unknown' : state, welcomeEmailIds: [] };
}
