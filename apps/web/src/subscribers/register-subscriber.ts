import { confirmationWindowMs, defaultListId, queueWelcomeEmails, subscribe } from '@herald/shared';
import type { ConsentSource, Db, SqlClient, SubscriberStatus } from '@herald/shared';
import type { SignupInput } from './signup-schema.js';

export type Registration = {
  subscriberId: string;
  /** Whether a confirmation email should go out (a new pending signup, a returning one, or a new list to confirm). */
  needsConfirmation: boolean;
  /** Welcome emails this signup made owed (lists without double opt-in); enqueue them after the commit. */
  welcomeEmailIds: string[];
};

/** A list a signup joins, and whether joining it waits for the address to be confirmed. */
export type SignupList = { id: string; doubleOptIn: boolean };

export type Signup = {
  input: SignupInput;
  lists: SignupList[];
  source: ConsentSource;
  /** Signups from the public form and API may join only public lists; the admin may add anyone anywhere. */
  publicOnly: boolean;
};

/**
 * Records a signup. One row per address, whatever the race: the unique index on email decides.
 * The caller answers every outcome the same way, so the form never reveals who is subscribed.
 *
 * - new address: `pending` (every list needs double opt-in) or `active`, with the consent time and source;
 * - pending: the consent is renewed and the confirmation is sent again (the worker rate-limits it);
 *   a list without double opt-in makes the person active;
 * - active: unchanged (a stranger must not be able to rename someone's subscription); a new
 *   subscription to a double opt-in list stays pending and owes a confirmation email;
 * - unsubscribed: back to `pending` with double opt-in (they receive nothing but the confirmation
 *   until they confirm), or `active` without it, since they asked for it themselves;
 * - bounced or complained: never resurrected by a signup, and no subscription is written.
 *
 * With no lists given, the default list, needing confirmation when `doubleOptIn` says so.
 */
export async function registerSubscriber(
  db: Db,
  input: SignupInput,
  options: { doubleOptIn: boolean; source: ConsentSource; lists?: SignupList[] },
): Promise<Registration> {
  const lists = options.lists ?? [{ id: await defaultListId(db), doubleOptIn: options.doubleOptIn }];
  const [registration] = await registerSubscribers(db, [{ input, lists, source: options.source, publicOnly: false }]);
  if (!registration) throw new Error('upsert returned no row');
  return registration;
}

/**
 * Records many signups in one transaction (see `registerSubscriber` for what each outcome does);
 * answers in the order given. An address given twice is one row, and both get its answer (the
 * first signup's lists).
 *
 * Every person-level outcome is decided inside the one upsert, under the row's lock, so a signup
 * racing an unsubscribe or another signup never sees a state that changed under it; the
 * subscriptions are written after it in the same transaction, while that lock is held (person
 * first, then their subscriptions: the order every writer of both keeps, so none deadlocks). A
 * confirmation owed leaves `confirmation_sent_at` NULL unless one still usable went out inside the
 * rate-limit window: NULL is what the reconciler reads as "owed", so the confirmation is sent even
 * when Redis misses the job.
 */
export async function registerSubscribers(db: Db, signups: Signup[]): Promise<Registration[]> {
  // One row per address, in address order: ON CONFLICT cannot touch a row twice in one
  // statement, and statements that lock rows in the same order cannot deadlock one another.
  const first = new Map<string, Signup>();
  for (const signup of signups) if (!first.has(signup.input.email)) first.set(signup.input.email, signup);
  const rows = [...first.values()].sort((a, b) => (a.input.email < b.input.email ? -1 : a.input.email > b.input.email ? 1 : 0));
  const windowStart = new Date(Date.now() - confirmationWindowMs);

  const outcomes = await db.$transaction(async (tx) => {
    const stored = await tx.$queryRaw<{ email: string; id: string; status: SubscriberStatus }[]>`
      INSERT INTO subscribers AS s (email, name, status, consent_at, consent_source, confirmed_at)
      SELECT i.email, i.name, i.status::subscriber_status, now(), i.source, CASE WHEN i.status = 'active' THEN now() END
      FROM unnest(${rows.map((row) => row.input.email)}::text[], ${rows.map((row) => row.input.name)}::text[],
                  ${rows.map((row) => initialStatus(row))}::text[], ${rows.map((row) => row.source)}::text[])
           WITH ORDINALITY AS i(email, name, status, source, n)
      ORDER BY i.n
      ON CONFLICT (email) DO UPDATE SET
        status = CASE WHEN s.status IN ('pending', 'unsubscribed') THEN
                   CASE WHEN EXCLUDED.status = 'active' THEN 'active'::subscriber_status ELSE 'pending'::subscriber_status END
                 ELSE s.status END,
        consent_at = CASE WHEN s.status IN ('pending', 'unsubscribed') THEN now() ELSE s.consent_at END,
        consent_source = CASE WHEN s.status IN ('pending', 'unsubscribed') THEN EXCLUDED.consent_source ELSE s.consent_source END,
        confirmed_at = CASE
          WHEN s.status = 'unsubscribed' THEN EXCLUDED.confirmed_at
          WHEN s.status = 'pending' AND EXCLUDED.status = 'active' THEN now()
          ELSE s.confirmed_at END,
        confirmation_sent_at = CASE
          WHEN (s.status = 'pending' OR (s.status = 'unsubscribed' AND EXCLUDED.status = 'pending'))
               AND s.confirmation_sent_at < ${windowStart} THEN NULL
          ELSE s.confirmation_sent_at END,
        updated_at = CASE WHEN s.status IN ('pending', 'unsubscribed') THEN now() ELSE s.updated_at END
      RETURNING s.email, s.id, s.status`;
    const byEmail = new Map(stored.map((row) => [row.email, row]));

    // Subscriptions, grouped by the lists asked for (a batch is usually one group: the default
    // list). Suppressed people get none: a signup changes nothing for them.
    const joinable = await joinableLists(tx, rows);
    const groups = new Map<string, { subscriberIds: string[]; listIds: string[]; status: 'pending' | 'active'; source: ConsentSource }>();
    for (const row of rows) {
      const person = byEmail.get(row.input.email);
      if (!person || (person.status !== 'pending' && person.status !== 'active')) continue;
      for (const status of ['pending', 'active'] as const) {
        const listIds = row.lists
          .filter((list) => joinable(list.id, row.publicOnly) && list.doubleOptIn === (status === 'pending'))
          .map((list) => list.id)
          .sort();
        if (listIds.length === 0) continue;
        // The consent source is part of the group: subscribe records one per call.
        const key = `${status}:${row.source}:${listIds.join(',')}`;
        const group = groups.get(key) ?? { subscriberIds: [], listIds, status, source: row.source };
        group.subscriberIds.push(person.id);
        groups.set(key, group);
      }
    }
    const welcomeEmailIds: string[] = [];
    for (const group of groups.values()) {
      const activated = await subscribe(tx, group.subscriberIds, group.listIds, { status: group.status, source: group.source });
      welcomeEmailIds.push(...(await queueWelcomeEmails(tx, activated)));
    }
    const owners = await welcomeOwners(tx, welcomeEmailIds);

    // A confirmed person with a pending subscription among the lists asked for owes a
    // confirmation too (a stranger must not add someone to a double opt-in list). An email sent
    // inside the window covers it only while its link is unused.
    const active = new Set(stored.filter((row) => row.status === 'active').map((row) => row.id));
    const asked = [...groups.values()]
      .filter((group) => group.status === 'pending')
      .flatMap((group) => group.subscriberIds.filter((id) => active.has(id)).flatMap((id) => group.listIds.map((listId) => [id, listId] as const)));
    const owing = asked.length === 0 ? [] : await tx.$queryRaw<{ id: string }[]>`
      UPDATE subscribers s SET
        confirmation_sent_at = CASE
          WHEN s.confirmation_sent_at < ${windowStart} OR s.confirm_token_hash IS NULL THEN NULL
          ELSE s.confirmation_sent_at END
      WHERE s.id IN (
        SELECT sub.subscriber_id FROM unnest(${asked.map((pair) => pair[0])}::uuid[], ${asked.map((pair) => pair[1])}::uuid[]) AS a(subscriber_id, list_id)
        JOIN subscriptions sub ON sub.subscriber_id = a.subscriber_id AND sub.list_id = a.list_id AND sub.status = 'pending')
      RETURNING s.id`;
    return { byEmail, owing: new Set(owing.map((row) => row.id)), owners };
  });

  return signups.map(({ input }) => {
    const row = outcomes.byEmail.get(input.email);
    if (!row) throw new Error('upsert returned no row for a signup');
    return {
      subscriberId: row.id,
      // Pending afterwards means a confirmation is owed: a new signup, a pending one asking again,
      // or someone who left coming back with double opt-in; or a confirmed person's new list.
      needsConfirmation: row.status === 'pending' || outcomes.owing.has(row.id),
      welcomeEmailIds: outcomes.owners.get(row.id) ?? [],
    };
  });
}

/** A person is `pending` only when every list they asked for waits for a confirmation. */
function initialStatus({ lists }: Signup): SubscriberStatus {
  return lists.length > 0 && lists.every((list) => list.doubleOptIn) ? 'pending' : 'active';
}

/**
 * Which of the signups' lists may still be joined, read inside the transaction: a list archived or
 * made private since the request resolved it is not joined.
 */
async function joinableLists(tx: SqlClient, rows: Signup[]) {
  const ids = [...new Set(rows.flatMap((row) => row.lists.map((list) => list.id)))];
  const found = ids.length === 0 ? [] : await tx.$queryRaw<{ id: string; public: boolean }[]>`
    SELECT id, visibility = 'public' AS public FROM lists WHERE id = ANY(${ids}::uuid[]) AND archived_at IS NULL`;
  const lists = new Map(found.map((row) => [row.id, row.public]));
  return (id: string, publicOnly: boolean) => lists.has(id) && (!publicOnly || lists.get(id) === true);
}

/** Whose welcome emails these are, by subscriber. */
async function welcomeOwners(tx: SqlClient, ids: string[]): Promise<Map<string, string[]>> {
  const owners = new Map<string, string[]>();
  if (ids.length === 0) return owners;
  const rows = await tx.$queryRaw<{ id: string; subscriber_id: string }[]>`
    SELECT id, subscriber_id FROM welcome_emails WHERE id = ANY(${ids}::uuid[])`;
  for (const row of rows) owners.set(row.subscriber_id, [...(owners.get(row.subscriber_id) ?? []), row.id]);
  return owners;
}
