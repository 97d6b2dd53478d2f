import { Prisma, beforeEveryUuid, enqueueJobs, jobs, keysetPages } from '@herald/shared';
import type { Db, Queues, SqlClient } from '@herald/shared';

const confirmationPage = 1_000;
/** Nobody gets a confirmation email for consent older than the confirmation link's life. */
const unsentConfirmationMaxAgeMs = 7 * 24 * 60 * 60 * 1000;

/** Pending subscribers owed a confirmation email (see below); the reconciler compares it with the live jobs. */
export async function countUnsentConfirmations(db: SqlClient): Promise<number> {
  const since = new Date(Date.now() - unsentConfirmationMaxAgeMs);
  const [row] = await db.$queryRaw<{ count: number }[]>`
    SELECT (SELECT count(*)::int FROM subscribers
            WHERE status = 'pending' AND confirmation_sent_at IS NULL AND coalesce(consent_at, created_at) > ${since})
         + (SELECT count(*)::int FROM (${confirmedWithNewLists(since)}) owed) AS count`;
  return row?.count ?? 0;
}

/**
 * Confirmed people owed a confirmation for a double opt-in list they asked for since: a pending
 * subscription with recent consent, and no confirmation sent since (a signup clears
 * `confirmation_sent_at` when it owes one). Found from the pending subscriptions, list by list
 * through the (list_id, status, subscriber_id) index, since most confirmed people have no pending
 * subscription and many never had a confirmation sent at all.
 */
function confirmedWithNewLists(since: Date, after = beforeEveryUuid) {
  return Prisma.sql`
    SELECT DISTINCT s.id FROM lists l
    JOIN subscriptions sub ON sub.list_id = l.id AND sub.status = 'pending' AND sub.consent_at > ${since}
    JOIN subscribers s ON s.id = sub.subscriber_id
    WHERE s.status = 'active' AND s.confirmation_sent_at IS NULL AND s.id > ${after}::uuid`;
}

/**
 * Enqueues a confirmation email for every pending subscriber who has not been sent one since they
 * last gave consent, and every confirmed one owed one for a new list: signups and "subscribe again" clicks made while Redis was down, and imports
 * (which leave this to a worker instead of enqueueing up to a million jobs inside the request).
 * Pages through the (status, id) index and adds each page in
 * one call; the job ids make a repeat harmless. Returns how many were enqueued.
 */
export async function enqueueUnsentConfirmations(db: Db, queues: Queues): Promise<number> {
  const now = new Date();
  const since = new Date(now.getTime() - unsentConfirmationMaxAgeMs);
  const unsent = keysetPages(
    (after, limit) => db.$queryRaw<{ id: string }[]>`
      SELECT id FROM subscribers
      WHERE status = 'pending' AND id > ${after}::uuid AND confirmation_sent_at IS NULL
        AND coalesce(consent_at, created_at) > ${since}
      ORDER BY id LIMIT ${limit}`,
    { pageSize: confirmationPage },
  );
  const newLists = keysetPages(
    (after, limit) => db.$queryRaw<{ id: string }[]>`
      SELECT id FROM (${confirmedWithNewLists(since, after)}) owed ORDER BY id LIMIT ${limit}`,
    { pageSize: confirmationPage },
  );
  let total = 0;
  for (const pages of [unsent, newLists]) {
    for await (const page of pages) {
      await enqueueJobs(queues, jobs.sendConfirmation, page.map(({ id }) => ({ payload: { subscriberId: id }, key: now })));
      total += page.length;
    }
  }
  return total;
}
