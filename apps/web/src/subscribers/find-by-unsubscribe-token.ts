import type { Db, SubscriberStatus } from '@herald/shared';

export interface TokenHolder {
  id: string;
  email: string;
  name: string | null;
  status: SubscriberStatus;
}

/** Unsubscribe tokens are 256 random bits in hex; anything else is not worth a query. */
const unsubscribeTokenShape = /^[0-9a-f]{64}$/;

/**
 * The person an unsubscribe link belongs to: the same capability opens the unsubscribe page and
 * the preference centre. Null for an unknown token or one of the wrong shape.
 */
export function findByUnsubscribeToken(db: Db, token: string): Promise<TokenHolder | null> {
  if (!unsubscribeTokenShape.test(token)) return Promise.resolve(null);
  return db.subscriber.findUnique({ where: { unsubscribeToken: token }, select: { id: true, email: true, name: true, status: true } });
}
