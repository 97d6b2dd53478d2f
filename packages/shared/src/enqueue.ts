import type { Queue } from 'bullmq';
import type { Db } from './db.js';
import {
  confirmationJobId,
  confirmationJobOptions,
  fanOutJobOptions,
  fanOutPayload,
  jobNames,
  processEventsJobOptions,
  processEventsPayload,
  reconcileJobOptions,
  reconcilePayload,
  sendConfirmationPayload,
} from './jobs.js';

/** Payloads are parsed before they are enqueued, so a worker never meets a malformed one. */
export async function enqueueConfirmation(queue: Queue, subscriberId: string): Promise<void> {
  const payload = sendConfirmationPayload.parse({ subscriberId });
  await queue.add(jobNames.sendConfirmation, payload, {
    ...confirmationJobOptions,
    jobId: confirmationJobId(subscriberId),
  });
}

/**
 * Starts (or resumes) a campaign's fan-out, from its first queued delivery or from after `after`.
 * Running it more than once is harmless.
 */
export async function enqueueFanOut(queue: Queue, campaignId: string, after?: string): Promise<void> {
  const payload = fanOutPayload.parse(after ? { campaignId, after } : { campaignId });
  await queue.add(jobNames.fanOut, payload, fanOutJobOptions);
}

/** Asks a worker to apply the webhook events stored but not yet processed. */
export async function enqueueEventProcessing(queue: Queue): Promise<void> {
  await queue.add(jobNames.processEvents, processEventsPayload.parse({}), processEventsJobOptions);
}

/** Asks a worker to reconcile now rather than at the next minute (e.g. after a large import). */
export async function enqueueReconcile(queue: Queue): Promise<void> {
  await queue.add(jobNames.reconcile, reconcilePayload.parse({}), reconcileJobOptions);
}

const confirmationPage = 1_000;
/** Nobody gets a first confirmation email for a signup older than the confirmation link's life. */
const unsentConfirmationMaxAgeMs = 7 * 24 * 60 * 60 * 1000;

/**
 * Enqueues a confirmation email for every pending subscriber who has never been sent one: signups
 * made while Redis was down, and imports (which leave this to a worker instead of enqueueing up to
 * a million jobs inside the request). Pages through the (status, id) index and adds each page in
 * one call; the job ids make a repeat harmless. Returns how many were enqueued.
 */
export async function enqueueUnsentConfirmations(db: Db, queue: Queue): Promise<number> {
  const since = new Date(Date.now() - unsentConfirmationMaxAgeMs);
  let cursor = '00000000-0000-0000-0000-000000000000';
  let total = 0;
  for (;;) {
    const page = await db.$queryRaw<{ id: string }[]>`
      SELECT id FROM subscribers
      WHERE status = 'pending' AND id > ${cursor}::uuid AND confirmation_sent_at IS NULL AND created_at > ${since}
      ORDER BY id LIMIT ${confirmationPage}`;
    const last = page.at(-1);
    if (!last) return total;
    await queue.addBulk(
      page.map(({ id }) => ({
        name: jobNames.sendConfirmation,
        data: sendConfirmationPayload.parse({ subscriberId: id }),
        opts: { ...confirmationJobOptions, jobId: confirmationJobId(id) },
      })),
    );
    total += page.length;
    cursor = last.id;
  }
}
