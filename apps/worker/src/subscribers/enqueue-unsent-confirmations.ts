import { enqueueJobs, jobs, keysetPages } from '@herald/shared';
import type { Db, Queues, SqlClient } from '@herald/shared';

const confirmationPage = 1_000;
/** Nobody gets a confirmation email for consent older than the confirmation link's life. */
const unsentConfirmationMaxAgeMs = 7 * 24 * 60 * 60 * 1000;

/** Pending subscribers owed a confirmation email (see below); the reconciler compares it with the live jobs. */
export async function countUnsentConfirmations(db: SqlClient): Promise<number> {
  const since = new Date(Date.now() - unsentConfirmationMaxAgeMs);
  const [row] = await db.$queryRaw<{ count: number }[]>`
    SELECT count(*)::int AS count FROM subscribers
    WHERE status = 'pending' AND confirmation_sent_at IS NULL AND coalesce(consent_at, created_at) > ${since}`;
  return row?.count ?? 0;
}

/**
 * Enqueues a confirmation email for every pending subscriber who has not been sent one since they
 * last gave consent: signups and "subscribe again" clicks made while Redis was down, and imports
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
  let total = 0;
  for await (const page of unsent) {
    await enqueueJobs(queues, jobs.sendConfirmation, page.map(({ id }) => ({ payload: { subscriberId: id }, key: now })));
    total += page.length;
  }
  return total;
}
