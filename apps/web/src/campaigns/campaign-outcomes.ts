import type { Db, DeliveryStatus } from '@herald/shared';

export type CampaignOutcome = {
  counts: Record<DeliveryStatus, number>;
  total: number;
  /** Sent, failed and skipped, 0-100. */
  percent: number;
  bounced: number;
  complained: number;
};

const emptyCounts = (): Record<DeliveryStatus, number> => ({ queued: 0, sending: 0, sent: 0, failed: 0, cancelled: 0, skipped: 0 });

/**
 * Delivery counts and reported bounces and complaints for a page of campaigns, in two statements
 * whatever the page size: the deliveries through the (campaign_id, status, id) index, the events
 * through the report aggregates' primary key.
 */
export async function readCampaignOutcomes(db: Db, campaignIds: string[]): Promise<Map<string, CampaignOutcome>> {
  const outcomes = new Map<string, CampaignOutcome>(campaignIds.map((id) => [id, { counts: emptyCounts(), total: 0, percent: 0, bounced: 0, complained: 0 }]));
  if (campaignIds.length === 0) return outcomes;
  const [statusRows, eventRows] = await Promise.all([
    db.$queryRaw<{ campaign_id: string; status: DeliveryStatus; count: number }[]>`
      SELECT campaign_id::text, status::text AS status, count(*)::int AS count
      FROM deliveries WHERE campaign_id = ANY(${campaignIds}::uuid[])
      GROUP BY campaign_id, status`,
    // The report aggregates: recipients whose first bounce or complaint fell in each hour.
    db.$queryRaw<{ campaign_id: string; bounced: number; complained: number }[]>`
      SELECT campaign_id::text,
        coalesce(sum(uniques) FILTER (WHERE kind = 'bounced'), 0)::int AS bounced,
        coalesce(sum(uniques) FILTER (WHERE kind = 'complained'), 0)::int AS complained
      FROM campaign_event_hours
      WHERE campaign_id = ANY(${campaignIds}::uuid[]) AND kind IN ('bounced', 'complained')
      GROUP BY campaign_id`,
  ]);
  for (const row of statusRows) {
    const outcome = outcomes.get(row.campaign_id);
    if (!outcome) continue;
    outcome.counts[row.status] = row.count;
    outcome.total += row.count;
  }
  for (const row of eventRows) {
    const outcome = outcomes.get(row.campaign_id);
    if (outcome) Object.assign(outcome, { bounced: row.bounced, complained: row.complained });
  }
  for (const outcome of outcomes.values()) {
    const done = outcome.counts.sent + outcome.counts.failed + outcome.counts.skipped;
    outcome.percent = outcome.total === 0 ? 0 : Math.floor((done / outcome.total) * 1000) / 10;
  }
  return outcomes;
}
