import { finishCampaigns, suppressSubscribers } from '@herald/shared';
import type { Db, SuppressedStatus } from '@herald/shared';
import { aggregateEvents } from './aggregate-events.js';
import { classifyEvent } from './classify-event.js';

type ClaimedEvent = {
  id: string;
  type: string;
  subscriber_id: string | null;
  bounce_type: string | null;
  reason: string | null;
  classification: string | null;
};

export type EventBatchResult = {
  /** Events claimed and marked processed. */
  processed: number;
  /** Subscribers whose status changed. */
  suppressed: number;
};

/** Stronger signals first; an unsubscribe never hides a bounce or complaint (suppressSubscribers). */
const applyOrder: SuppressedStatus[] = ['complained', 'bounced', 'unsubscribed'];

/**
 * Claims up to `limit` unprocessed events and applies their effects in the same transaction (the
 * suppressions, and the report aggregates: aggregate-events.ts): a crash rolls back both, so an
 * event is never marked processed without its effect, nor counted twice, and SKIP LOCKED
 * lets several workers drain the table without waiting on each other. Events are claimed oldest
 * first. Applying a suppression twice changes nothing, so a replay is harmless as well. Campaigns
 * left with nothing to send by the skipped deliveries are finished after the commit.
 */
export async function applyEventBatch(db: Db, limit: number): Promise<EventBatchResult> {
  const { touchedCampaigns, ...result } = await db.$transaction(
    async (tx) => {
      // The oldest unprocessed events in the order of their partial index
      // (email_events_unprocessed_idx), then each by primary key. The table is seldom analysed while
      // a burst of webhooks arrives, so the planner expects a few unprocessed events and would
      // rather fetch and sort them all than read the index in order: that cost grows with the
      // backlog. Sorting is ruled out for the claim alone.
      await tx.$executeRaw`SET LOCAL enable_sort = off`;
      const claimed = await tx.$queryRaw<ClaimedEvent[]>`
        WITH claim AS (
          SELECT id FROM email_events WHERE processed_at IS NULL
          ORDER BY created_at LIMIT ${limit} FOR UPDATE SKIP LOCKED)
        UPDATE email_events e SET processed_at = now() FROM claim WHERE e.id = claim.id
        RETURNING e.id, e.type, e.subscriber_id, e.payload->>'type' AS bounce_type, e.payload->>'reason' AS reason,
          e.payload->>'bounce_classification' AS classification`;
      await tx.$executeRaw`SET LOCAL enable_sort TO DEFAULT`;

      const targets = new Map<SuppressedStatus, Set<string>>();
      for (const event of claimed) {
        const status = classifyEvent({ type: event.type, bounceType: event.bounce_type, reason: event.reason, classification: event.classification });
        if (!status || !event.subscriber_id) continue;
        targets.set(status, (targets.get(status) ?? new Set()).add(event.subscriber_id));
      }

      let suppressed = 0;
      const touchedCampaigns: string[] = [];
      for (const status of applyOrder) {
        const ids = targets.get(status);
        if (!ids) continue;
        const applied = await suppressSubscribers(tx, [...ids], status);
        suppressed += applied.changed;
        touchedCampaigns.push(...applied.touchedCampaigns);
      }
      await aggregateEvents(tx, claimed.map((event) => event.id));
      return { processed: claimed.length, suppressed, touchedCampaigns };
    },
    { maxWait: 10_000, timeout: 60_000 },
  );
  await finishCampaigns(db, touchedCampaigns);
  return result;
}
