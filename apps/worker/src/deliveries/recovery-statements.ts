/**
 * The reconciler's statements on `deliveries`: what it counts, recovers and pages through to make
 * Redis agree with Postgres again (see handlers/reconcile.ts). Only campaigns that can have
 * deliveries in flight are looked at, each through the (campaign_id, status, id) index.
 */
import { keysetPages } from '@herald/shared';
import type { SqlClient } from '@herald/shared';
import type { QueuedDelivery } from '../campaigns/enqueue-deliveries.js';

/** Queued deliveries of sending campaigns that should have a send job: those up to where each campaign's fan-out got. */
export async function countQueuedWithinWindow(db: SqlClient): Promise<number> {
  const [row] = await db.$queryRaw<{ count: number }[]>`
    SELECT count(*)::int AS count FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id
    WHERE c.status = 'sending' AND d.status = 'queued' AND d.id <= c.enqueued_through`;
  return row?.count ?? 0;
}

/**
 * Deliveries left `sending` since before `staleBefore` by a worker that stopped mid-call. If a
 * webhook event for one arrived, SendGrid accepted it: it is marked `sent`. Every other goes back
 * to `queued` in a new round to be sent again, or to `cancelled` if its campaign was cancelled.
 */
export async function recoverStuckDeliveries(db: SqlClient, staleBefore: Date): Promise<{ stuckResent: number; stuckMarkedSent: number }> {
  const stuckMarkedSent = await db.$executeRaw`
    UPDATE deliveries d SET status = 'sent', updated_at = now(),
      sent_at = (SELECT min(e.occurred_at) FROM email_events e WHERE e.delivery_id = d.id),
      last_error = 'worker stopped after SendGrid accepted the message'
    FROM campaigns c
    WHERE c.status IN ('sending', 'paused', 'cancelled') AND d.campaign_id = c.id
      AND d.status = 'sending' AND d.claimed_at < ${staleBefore}
      AND EXISTS (SELECT 1 FROM email_events e WHERE e.delivery_id = d.id)`;
  const stuckResent = await db.$executeRaw`
    UPDATE deliveries d
    SET status = CASE WHEN c.status = 'cancelled' THEN 'cancelled'::delivery_status ELSE 'queued'::delivery_status END,
      claimed_at = NULL, claim_token = NULL, round = d.round + 1, updated_at = now(),
      last_error = 'worker stopped during the SendGrid call; sending again'
    FROM campaigns c
    WHERE c.status IN ('sending', 'paused', 'cancelled') AND d.campaign_id = c.id
      AND d.status = 'sending' AND d.claimed_at < ${staleBefore}`;
  return { stuckResent, stuckMarkedSent };
}

/** A campaign's queued deliveries up to `through` (where its fan-out got), `pageSize` at a time in id order. */
export function queuedDeliveryPages(db: SqlClient, campaignId: string, through: string, pageSize: number): AsyncIterable<QueuedDelivery[]> {
  return keysetPages(
    (after, limit) => db.$queryRaw<QueuedDelivery[]>`
      SELECT id, round FROM deliveries
      WHERE campaign_id = ${campaignId}::uuid AND status = 'queued' AND id > ${after}::uuid AND id <= ${through}::uuid
      ORDER BY id LIMIT ${limit}`,
    { pageSize },
  );
}

/** Moves queued deliveries to their next round, so that their send job gets an id BullMQ has not seen. */
export async function startNextRound(db: SqlClient, ids: string[]): Promise<void> {
  await db.$executeRaw`UPDATE deliveries SET round = round + 1 WHERE id = ANY(${ids}::uuid[]) AND status = 'queued'`;
}
