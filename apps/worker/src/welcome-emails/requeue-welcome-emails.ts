import { enqueueWelcomeEmails, jobs, welcomeJobId } from '@herald/shared';
import type { Queues, SqlClient } from '@herald/shared';
import { countQueuedWelcomeEmails, queuedWelcomeEmailPages, recoverStuckWelcomeEmails } from './welcome-email-statements.js';

const pageSize = 1_000;

/**
 * A queued welcome email older than this should have its job: the web enqueues right after the
 * commit that wrote the row, so a younger one may simply not be enqueued yet.
 */
export const welcomeEnqueueGraceMs = 5_000;

/** Queued welcome emails that should have a job by now; the reconciler compares it with the live jobs. */
export function countOwedWelcomeEmails(db: SqlClient, now = Date.now()): Promise<number> {
  return countQueuedWelcomeEmails(db, new Date(now - welcomeEnqueueGraceMs));
}

/**
 * Welcome emails a stopped worker left `sending` since before `staleBefore` are queued again and
 * enqueued at once. Returns how many.
 */
export async function resendStuckWelcomeEmails(db: SqlClient, queues: Queues, staleBefore: Date): Promise<number> {
  const ids = await recoverStuckWelcomeEmails(db, staleBefore);
  // A job BullMQ still holds under the row's id (the stalled one, waiting for its re-run) makes the
  // add a no-op and sends the row itself when it runs; one BullMQ failed is replaced by the next
  // requeueWelcomeEmails, once the row is past the grace period.
  await enqueueWelcomeEmails(queues, ids);
  return ids.length;
}

/**
 * Enqueues every queued welcome email older than the grace period whose job Redis no longer holds
 * (Redis restarted empty, the web could not reach it) or whose job finished without sending it (it
 * ran out of attempts on a database that did not answer): such a job is removed first, since BullMQ
 * ignores an add under the id of a job it still keeps. Returns how many were enqueued.
 */
export async function requeueWelcomeEmails(db: SqlClient, queues: Queues, now = Date.now()): Promise<number> {
  const queue = queues[jobs.sendWelcome.queue];
  let requeued = 0;
  for await (const page of queuedWelcomeEmailPages(db, new Date(now - welcomeEnqueueGraceMs), pageSize)) {
    const states = await Promise.all(page.map(({ id }) => queue.getJobState(welcomeJobId(id))));
    const orphans = page.flatMap(({ id }, i) => {
      const state = states[i];
      if (state === 'unknown') return [{ id, finished: false }];
      if (state === 'completed' || state === 'failed') return [{ id, finished: true }];
      return [];
    });
    await Promise.all(orphans.filter((orphan) => orphan.finished).map((orphan) => queue.remove(welcomeJobId(orphan.id))));
    await enqueueWelcomeEmails(queues, orphans.map((orphan) => orphan.id));
    requeued += orphans.length;
  }
  return requeued;
}
