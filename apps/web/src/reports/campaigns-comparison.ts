import type { Campaign, Db } from '@herald/shared';
import { countDeliveriesByCampaign } from '../campaigns/campaign-queries.js';
import { reportRates, reportTotals } from './campaign-report.js';
import type { KindCount, ReportRates, ReportTotals } from './campaign-report.js';
import type { ReportRange } from './report-range.js';

/** One campaign of the comparison: its report's figures and rates, without timeline or links. */
export type ComparedCampaign = {
  id: string;
  subject: string;
  status: Campaign['status'];
  /** When the send started. */
  sentAt: Date;
  finishedAt: Date | null;
  totals: ReportTotals;
  rates: ReportRates;
};

type CampaignRow = Pick<Campaign, 'id' | 'subject' | 'status' | 'startedAt' | 'finishedAt'>;

/**
 * The campaigns' report figures side by side. Two statements whatever their number: the
 * deliveries' counts through the (campaign_id, status, id) index, and the event aggregates summed
 * per campaign and kind, O(campaigns × hours), never the events themselves.
 */
export async function compareCampaigns(db: Db, campaigns: CampaignRow[]): Promise<ComparedCampaign[]> {
  const ids = campaigns.map((campaign) => campaign.id);
  if (ids.length === 0) return [];
  const [counts, kinds] = await Promise.all([
    countDeliveriesByCampaign(db, ids),
    db.$queryRaw<(KindCount & { campaign_id: string })[]>`
      SELECT campaign_id::text, kind, sum(events)::int AS events, sum(uniques)::int AS uniques
      FROM campaign_event_hours WHERE campaign_id = ANY(${ids}::uuid[]) GROUP BY campaign_id, kind`,
  ]);
  const kindsOf = new Map<string, KindCount[]>();
  for (const row of kinds) kindsOf.set(row.campaign_id, [...(kindsOf.get(row.campaign_id) ?? []), row]);
  return campaigns.map((campaign) => {
    const totals = reportTotals(counts.get(campaign.id)!, kindsOf.get(campaign.id) ?? []);
    return {
      id: campaign.id,
      subject: campaign.subject,
      status: campaign.status,
      sentAt: campaign.startedAt!,
      finishedAt: campaign.finishedAt,
      totals,
      rates: reportRates(totals),
    };
  });
}

const picked = { id: true, subject: true, status: true, startedAt: true, finishedAt: true } as const;

/**
 * The campaigns sent in the range (started or finished in it), oldest first, compared. A draft or
 * a campaign cancelled before it started sent nothing and is never among them.
 */
export async function compareCampaignsInRange(db: Db, range: ReportRange): Promise<ComparedCampaign[]> {
  const within = { gte: range.from, lt: range.to };
  const campaigns = await db.campaign.findMany({
    where: { startedAt: { not: null }, OR: [{ startedAt: within }, { finishedAt: within }] },
    orderBy: [{ startedAt: 'asc' }, { id: 'asc' }],
    select: picked,
  });
  return compareCampaigns(db, campaigns);
}

/** The last `limit` campaigns to have started, oldest first (the order of a trend). */
export async function compareRecentCampaigns(db: Db, limit: number): Promise<ComparedCampaign[]> {
  const campaigns = await db.campaign.findMany({
    where: { startedAt: { not: null } },
    orderBy: [{ startedAt: 'desc' }, { id: 'desc' }],
    take: limit,
    select: picked,
  });
  return compareCampaigns(db, campaigns.reverse());
}
