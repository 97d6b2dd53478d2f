import { createHash } from 'node:crypto';
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
  if (subscriber.status !== 'pending') return 'unknown';
  return subscriber.confirmTokenExpiresAt && subscriber.confirmTokenExpiresAt > new Date() ? 'valid' : 'expired';
}

/**
 * Confirms a pending subscriber. The token works once: the conditional update clears it, so a second
 * POST (or a concurrent one) changes nothing and is told the subscription is already confirmed.
 */
export async function confirmSubscription(db: Db, token: string): Promise<ConfirmOutcome> {
  if (!tokenShape.test(token)) return 'unknown';
  const hash = hashToken(token);
  const confirmed = await db.$executeRaw`
    UPDATE subscribers
    SET status = 'active', confirmed_at = now(), confirm_token_hash = NULL, confirm_token_expires_at = NULL,
        used_confirm_token_hash = ${hash}, updated_at = now()
    WHERE confirm_token_hash = ${hash} AND status = 'pending' AND confirm_token_expires_at > now()`;
  if (confirmed > 0) return 'confirmed';
  const state = await inspectConfirmToken(db, token);
  return state === 'valid' ? 'unknown' : state;
}
