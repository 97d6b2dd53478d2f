import { finishCampaigns, suppressSubscribers } from '@herald/shared';
import type { Db, SuppressedStatus } from '@herald/shared';
import { claimAndAggregate } from './aggregate-events.js';
import { classifyEvent, eventEffects } from './classify-event.js';

export type EventBatchResult = {
  /** Events claimed and applied (taken out of the backlog). */
  processed: number;
  /** Subscribers whose status changed. */
  suppressed: number;
};

/** Stronger signals first; an unsubscribe never hides a bounce or complaint (suppressSubscribers). */
const applyOrder: SuppressedStatus[] = ['complained', 'bounced', 'unsubscribed'];

/** The SendGrid events that can change a subscriber's state: only these are read back from the claim. */
const suppressingTypes = [...new Set(eventEffects.filter((effect) => effect.status !== undefined).map((effect) => effect.event))];

/**
 * Claims up to `limit` events from the backlog (email_event_backlog) and applies their effects in
 * the same transaction (the report aggregates, in the statement that claims them:
 * aggregate-events.ts; then the suppressions): a crash rolls back both, so an event never leaves
 * the backlog without its effect, nor is counted twice. Events are claimed oldest first, a batch
 * at a time across workers. Applying a suppression twice changes nothing, so a replay is harmless
 * as well. Campaigns left with nothing to send by the skipped deliveries are finished after the
 * commit.
 */
export async function applyEventBatch(db: Db, limit: number): Promise<EventBatchResult> {
  const { touchedCampaigns, ...result } = await db.$transaction(
    async (tx) => {
      const claimed = await claimAndAggregate(tx, limit, suppressingTypes);
      const targets = new Map<SuppressedStatus, Set<string>>();
      for (const event of claimed.candidates) {
        const status = classifyEvent(event);
        if (status) targets.set(status, (targets.get(status) ?? new Set()).add(event.subscriberId));
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
      return { processed: claimed.claimed, suppressed, touchedCampaigns };
    },
    { maxWait: 10_000, timeout: 60_000 },
  );
  await finishCampaigns(db, touchedCampaigns);
  return result;
}
