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

const kinds = ['delivered', 'bounced', 'blocked', 'dropped', 'complained', 'unsubscribed', 'opened', 'clicked'] as const;

/**
 * Counts the campaign's recipients per event kind, so an email opened five times counts once. Reads
 * the report aggregates (`uniques` per campaign, kind and hour, kept exact as events are applied), so
 * the cost follows the campaign's hours, not its events; the same figures as its report.
 */
export async function countCampaignEvents(db: Db, campaignId: string): Promise<CampaignEventCounts> {
  const rows = await db.$queryRaw<{ kind: string; recipients: number }[]>`
    SELECT kind, sum(uniques)::int AS recipients FROM campaign_event_hours
    WHERE campaign_id = ${campaignId}::uuid GROUP BY kind`;
  const counts = Object.fromEntries(kinds.map((kind) => [kind, 0])) as CampaignEventCounts;
  for (const row of rows) if (row.kind in counts) counts[row.kind as keyof CampaignEventCounts] = row.recipients;
  return counts;
}
