import type { Db, SubscriberStatus } from '@herald/shared';
import type { SignupInput } from './signup-schema.js';

export type Registration = {
  subscriberId: string;
  /** Whether a confirmation email should go out (a new pending signup, or a returning one). */
  needsConfirmation: boolean;
};

/**
 * Records a signup. One row per address, whatever the race: the unique index on email decides.
 * The caller answers every outcome the same way, so the form never reveals who is subscribed.
 *
 * - new address: `pending` (double opt-in) or `active`, with the consent time and source;
 * - pending: unchanged; the confirmation is sent again (the worker rate-limits it);
 * - active: unchanged (a stranger must not be able to rename someone's subscription);
 * - unsubscribed: back to `pending` with double opt-in (they receive nothing but the confirmation
 *   until they confirm), or `active` without it, since they asked for it themselves;
 * - bounced or complained: never resurrected by a signup.
 */
export async function registerSubscriber(
  db: Db,
  input: SignupInput,
  options: { doubleOptIn: boolean; source: string },
): Promise<Registration> {
  const initial: SubscriberStatus = options.doubleOptIn ? 'pending' : 'active';
  const [row] = await db.$queryRaw<{ id: string; status: SubscriberStatus; inserted: boolean }[]>`
    INSERT INTO subscribers (email, name, status, consent_at, consent_source, confirmed_at)
    VALUES (${input.email}, ${input.name}, ${initial}::subscriber_status, now(), ${options.source},
            CASE WHEN ${initial} = 'active' THEN now() END)
    ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email
    RETURNING id, status, (xmax = 0) AS inserted`;
  if (!row) throw new Error('upsert returned no row');

  if (row.inserted) return { subscriberId: row.id, needsConfirmation: row.status === 'pending' };
  if (row.status === 'pending') return { subscriberId: row.id, needsConfirmation: true };
  if (row.status !== 'unsubscribed') return { subscriberId: row.id, needsConfirmation: false };

  const now = new Date();
  await db.subscriber.updateMany({
    where: { id: row.id, status: 'unsubscribed' },
    data: {
      status: initial,
      consentAt: now,
      consentSource: options.source,
      confirmedAt: initial === 'active' ? now : null,
    },
  });
  return { subscriberId: row.id, needsConfirmation: initial === 'pending' };
}
