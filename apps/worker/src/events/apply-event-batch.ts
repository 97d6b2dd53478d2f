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
  /** Events claimed and applied (taken out of the backlog). */
  processed: number;
  /** Subscribers whose status changed. */
  suppressed: number;
};

/** Stronger signals first; an unsubscribe never hides a bounce or complaint (suppressSubscribers). */
const applyOrder: SuppressedStatus[] = ['complained', 'bounced', 'unsubscribed'];

/**
 * Claims up to `limit` events from the backlog (email_event_backlog) and applies their effects in
 * the same transaction (the suppressions, and the report aggregates: aggregate-events.ts): a crash
 * rolls back both, so an event never leaves the backlog without its effect, nor is counted twice, and SKIP LOCKED
 * lets several workers drain the table without waiting on each other. Events are claimed oldest
 * first. Applying a suppression twice changes nothing, so a replay is harmless as well. Campaigns
 * left with nothing to send by the skipped deliveries are finished after the commit.
 */
export async function applyEventBatch(db: Db, limit: number): Promise<EventBatchResult> {
  const { touchedCampaigns, ...result } = await db.$transaction(
    async (tx) => {
      // The oldest backlog rows by primary key, deleted as they are claimed; each event then by its
      // primary key. Nothing in email_events is written: an event is applied once its backlog row
      // is gone, and a rollback puts the row back with everything else.
      const claimed = await tx.$queryRaw<ClaimedEvent[]>`
        WITH claim AS (
          DELETE FROM email_event_backlog WHERE seq IN (
            SELECT seq FROM email_event_backlog ORDER BY seq LIMIT ${limit} FOR UPDATE SKIP LOCKED)
          RETURNING event_id)
        SELECT e.id, e.type, e.subscriber_id, e.payload->>'type' AS bounce_type, e.payload->>'reason' AS reason,
          e.payload->>'bounce_classification' AS classification
        FROM claim JOIN email_events e ON e.id = claim.event_id`;

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
