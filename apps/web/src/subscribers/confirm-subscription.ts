import { createHash } from 'node:crypto';
import type { Db } from '@herald/shared';

export type ConfirmOutcome = 'confirmed' | 'expired' | 'unknown';

/** Confirmation tokens are 256 random bits in base64url; anything else is not worth a query. */
const tokenShape = /^[A-Za-z0-9_-]{43}$/;

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** What a confirmation link points at, without changing anything (for the GET page). */
export async function inspectConfirmToken(db: Db, token: string): Promise<'valid' | 'expired' | 'unknown'> {
  if (!tokenShape.test(token)) return 'unknown';
  const subscriber = await db.subscriber.findUnique({
    where: { confirmTokenHash: hashToken(token) },
    select: { status: true, confirmTokenExpiresAt: true },
  });
  if (!subscriber || subscriber.status !== 'pending') return 'unknown';
  return subscriber.confirmTokenExpiresAt && subscriber.confirmTokenExpiresAt > new Date() ? 'valid' : 'expired';
}

/**
 * Confirms a pending subscriber. The token works once: the conditional update clears it, so a second
 * POST (or a concurrent one) finds nothing and is told the link is no longer valid.
 */
export async function confirmSubscription(db: Db, token: string): Promise<ConfirmOutcome> {
  if (!tokenShape.test(token)) return 'unknown';
  const hash = hashToken(token);
  const confirmed = await db.$executeRaw`
    UPDATE subscribers
    SET status = 'active', confirmed_at = now(), confirm_token_hash = NULL, confirm_token_expires_at = NULL, updated_at = now()
    WHERE confirm_token_hash = ${hash} AND status = 'pending' AND confirm_token_expires_at > now()`;
  if (confirmed > 0) return 'confirmed';
  return (await inspectConfirmToken(db, token)) === 'expired' ? 'expired' : 'unknown';
}
