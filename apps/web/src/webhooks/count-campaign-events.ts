import type { Db } from '@herald/shared';

/** How many of a campaign's deliveries have at least one event of each kind (not how many events). */
export type CampaignEventCounts = {
  delivered: number;
  /** Hard bounces: `bounce` events of type `bounce` (or with no type). */
  bounced: number;
  /** `bounce` events of type `blocked`: the receiving server refused for now, the address is fine. */
  blocked: number;
  dropped: number;
  /** Spam reports. */
  complained: number;
  /** `unsubscribe` and `group_unsubscribe`. */
  unsubscribed: number;
  opened: number;
  clicked: number;
};

/**
 * Counts distinct deliveries per event kind, so an email opened five times counts once. Reads the
 * campaign's deliveries through (campaign_id, status, id) and their events through
 * (delivery_id, type).
 */
export async function countCampaignEvents(db: Db, campaignId: string): Promise<CampaignEventCounts> {
  const [counts] = await db.$queryRaw<CampaignEventCounts[]>`
    SELECT
      count(DISTINCT e.delivery_id) FILTER (WHERE e.type = 'delivered')::int AS delivered,
      count(DISTINCT e.delivery_id) FILTER (
        WHERE e.type = 'bounce' AND coalesce(e.payload->>'type', 'bounce') = 'bounce')::int AS bounced,
      count(DISTINCT e.delivery_id) FILTER (WHERE e.type = 'bounce' AND e.payload->>'type' = 'blocked')::int AS blocked,
      count(DISTINCT e.delivery_id) FILTER (WHERE e.type = 'dropped')::int AS dropped,
      count(DISTINCT e.delivery_id) FILTER (WHERE e.type = 'spamreport')::int AS complained,
      count(DISTINCT e.delivery_id) FILTER (WHERE e.type IN ('unsubscribe', 'group_unsubscribe'))::int AS unsubscribed,
      count(DISTINCT e.delivery_id) FILTER (WHERE e.type = 'open')::int AS opened,
      count(DISTINCT e.delivery_id) FILTER (WHERE e.type = 'click')::int AS clicked
    FROM deliveries d
    JOIN email_events e ON e.delivery_id = d.id
    WHERE d.campaign_id = ${campaignId}::uuid`;
  // An aggregate without GROUP BY always returns one row.
  return counts!;
}
