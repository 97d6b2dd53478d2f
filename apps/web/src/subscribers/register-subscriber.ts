import { confirmationWindowMs } from '@herald/shared';
import type { SqlClient, SubscriberStatus } from '@herald/shared';
import type { SignupInput } from './signup-schema.js';

export type Registration = {
  subscriberId: string;
  /** Whether a confirmation email should go out (a new pending signup, or a returning one). */
  needsConfirmation: boolean;
};

export type Signup = { input: SignupInput; doubleOptIn: boolean; source: string };

/**
 * Records a signup. One row per address, whatever the race: the unique index on email decides.
 * The caller answers every outcome the same way, so the form never reveals who is subscribed.
 *
 * - new address: `pending` (double opt-in) or `active`, with the consent time and source;
 * - pending: the consent is renewed and the confirmation is sent again (the worker rate-limits it);
 * - active: unchanged (a stranger must not be able to rename someone's subscription);
 * - unsubscribed: back to `pending` with double opt-in (they receive nothing but the confirmation
 *   until they confirm), or `active` without it, since they asked for it themselves;
 * - bounced or complained: never resurrected by a signup.
 */
export async function registerSubscriber(db: SqlClient, input: SignupInput, options: { doubleOptIn: boolean; source: string }): Promise<Registration> {
  const [registration] = await registerSubscribers(db, [{ input, ...options }]);
  if (!registration) throw new Error('upsert returned no row');
  return registration;
}

/**
 * Records many signups in one statement (see `registerSubscriber` for what each outcome does);
 * answers in the order given. An address given twice is one row, and both get its answer.
 *
 * Every outcome is decided inside the one upsert, under the row's lock, so a signup racing an
 * unsubscribe or another signup never sees a state that changed under it. A confirmation owed
 * (pending afterwards) leaves `confirmation_sent_at` NULL unless one went out inside the
 * rate-limit window: NULL is what the reconciler reads as "owed", so the confirmation is sent
 * even when Redis misses the job; an email sent inside the window already covers it.
 */
export async function registerSubscribers(db: SqlClient, signups: Signup[]): Promise<Registration[]> {
  // One row per address, in address order: ON CONFLICT cannot touch a row twice in one
  // statement, and statements that lock rows in the same order cannot deadlock one another.
  const first = new Map<string, Signup>();
  for (const signup of signups) if (!first.has(signup.input.email)) first.set(signup.input.email, signup);
  const rows = [...first.values()].sort((a, b) => (a.input.email < b.input.email ? -1 : a.input.email > b.input.email ? 1 : 0));
  const windowStart = new Date(Date.now() - confirmationWindowMs);

  const stored = await db.$queryRaw<{ email: string; id: string; status: SubscriberStatus }[]>`
    INSERT INTO subscribers AS s (email, name, status, consent_at, consent_source, confirmed_at)
    SELECT i.email, i.name, i.status::subscriber_status, now(), i.source, CASE WHEN i.status = 'active' THEN now() END
    FROM unnest(${rows.map((row) => row.input.email)}::text[], ${rows.map((row) => row.input.name)}::text[],
                ${rows.map((row) => initialStatus(row))}::text[], ${rows.map((row) => row.source)}::text[])
         WITH ORDINALITY AS i(email, name, status, source, n)
    ORDER BY i.n
    ON CONFLICT (email) DO UPDATE SET
      status = CASE WHEN s.status = 'unsubscribed' THEN EXCLUDED.status ELSE s.status END,
      consent_at = CASE WHEN s.status IN ('pending', 'unsubscribed') THEN now() ELSE s.consent_at END,
      consent_source = CASE WHEN s.status IN ('pending', 'unsubscribed') THEN EXCLUDED.consent_source ELSE s.consent_source END,
      confirmed_at = CASE WHEN s.status = 'unsubscribed' THEN EXCLUDED.confirmed_at ELSE s.confirmed_at END,
      confirmation_sent_at = CASE
        WHEN (s.status = 'pending' OR (s.status = 'unsubscribed' AND EXCLUDED.status = 'pending'))
             AND s.confirmation_sent_at < ${windowStart} THEN NULL
        ELSE s.confirmation_sent_at END,
      updated_at = CASE WHEN s.status IN ('pending', 'unsubscribed') THEN now() ELSE s.updated_at END
    RETURNING s.email, s.id, s.status`;

  const byEmail = new Map(stored.map((row) => [row.email, row]));
  return signups.map(({ input }) => {
    const row = byEmail.get(input.email);
    if (!row) throw new Error('upsert returned no row for a signup');
    // Pending afterwards means a confirmation is owed: a new signup, a pending one asking again,
    // or someone who left coming back with double opt-in.
    return { subscriberId: row.id, needsConfirmation: row.status === 'pending' };
  });
}

function initialStatus({ doubleOptIn }: Signup): SubscriberStatus {
  return doubleOptIn ? 'pending' : 'active';
}
