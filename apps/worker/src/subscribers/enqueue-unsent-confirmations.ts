import { enqueueJobs, jobs } from '@herald/shared';
import type { Db, Queues } from '@herald/shared';

const confirmationPage = 1_000;
/** Nobody gets a first confirmation email for a signup older than the confirmation link's life. */
const unsentConfirmationMaxAgeMs = 7 * 24 * 60 * 60 * 1000;

/**
 * Enqueues a confirmation email for every pending subscriber who has never been sent one: signups
 * made while Redis was down, and imports (which leave this to a worker instead of enqueueing up to
 * a million jobs inside the request). Pages through the (status, id) index and adds each page in
 * one call; the job ids make a repeat harmless. Returns how many were enqueued.
 */
export async function enqueueUnsentConfirmations(db: Db, queues: Queues): Promise<number> {
  const since = new Date(Date.now() - unsentConfirmationMaxAgeMs);
  const now = new Date();
  let cursor = '00000000-0000-0000-0000-000000000000';
  let total = 0;
  for (;;) {
    const page = await db.$queryRaw<{ id: string }[]>`
      SELECT id FROM subscribers
      WHERE status = 'pending' AND id > ${cursor}::uuid AND confirmation_sent_at IS NULL AND created_at > ${since}
      ORDER BY id LIMIT ${confirmationPage}`;
    const last = page.at(-1);
    if (!last) return total;
    await enqueueJobs(queues, jobs.sendConfirmation, page.map(({ id }) => ({ payload: { subscriberId: id }, key: now })));
    total += page.length;
    cursor = last.id;
  }
}
