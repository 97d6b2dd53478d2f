import type { SqlClient } from '@herald/shared';

/** One list of a campaign's audience: the report's figures for the recipients on that list. */
export type ListBreakdown = {
  listId: string;
  slug: string;
  name: string;
  sent: number;
  delivered: number;
  uniqueOpened: number;
  uniqueClicked: number;
  bounced: number;
  complained: number;
  unsubscribed: number;
  rates: { opened: number | null; clicked: number | null; unsubscribed: number | null };
};

const ratio = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : null);

type Row = Omit<ListBreakdown, 'rates'>;

/**
 * The report broken down by the lists the campaign went to. A delivery records the person, not the
 * list, so each recipient is counted under every one of the campaign's lists they are on (a
 * subscription of any status: leaving a list after the send keeps them under it); the lists' figures
 * can therefore add up to more than the campaign's. Recipients since erased belong to no list.
 *
 * Unlike the report itself this reads one row per recipient (deliveries, subscriptions and each
 * recipient's first events), so it is asked for on its own: about a second per million recipients.
 */
export async function readReportByList(db: SqlClient, campaignId: string): Promise<ListBreakdown[]> {
  const rows = await db.$queryRaw<Row[]>`
    WITH firsts AS (
      SELECT delivery_id,
             bool_or(kind = 'delivered') AS delivered, bool_or(kind = 'opened') AS opened,
             bool_or(kind = 'clicked') AS clicked, bool_or(kind = 'bounced') AS bounced,
             bool_or(kind = 'complained') AS complained, bool_or(kind = 'unsubscribed') AS unsubscribed
      FROM delivery_event_firsts WHERE campaign_id = ${campaignId}::uuid GROUP BY delivery_id
    )
    , recipients AS (
      SELECT s.list_id, f.delivered, f.opened, f.clicked, f.bounced, f.complained, f.unsubscribed
      FROM deliveries d
      JOIN subscriptions s ON s.subscriber_id = d.subscriber_id
      JOIN campaign_lists cl ON cl.campaign_id = d.campaign_id AND cl.list_id = s.list_id
      LEFT JOIN firsts f ON f.delivery_id = d.id
      WHERE d.campaign_id = ${campaignId}::uuid AND d.status = 'sent'
    )
    SELECT l.id AS "listId", l.slug, l.name,
           count(r.list_id)::int AS sent,
           count(*) FILTER (WHERE r.delivered)::int AS delivered,
           count(*) FILTER (WHERE r.opened)::int AS "uniqueOpened",
           count(*) FILTER (WHERE r.clicked)::int AS "uniqueClicked",
           count(*) FILTER (WHERE r.bounced)::int AS bounced,
           count(*) FILTER (WHERE r.complained)::int AS complained,
           count(*) FILTER (WHERE r.unsubscribed)::int AS unsubscribed
    FROM campaign_lists cl
    JOIN lists l ON l.id = cl.list_id
    LEFT JOIN recipients r ON r.list_id = cl.list_id
    WHERE cl.campaign_id = ${campaignId}::uuid
    GROUP BY l.id, l.slug, l.name, cl.position
    ORDER BY cl.position, l.id`;
  return rows.map((row) => ({
    ...row,
    rates: { opened: ratio(row.uniqueOpened, row.delivered), clicked: ratio(row.uniqueClicked, row.delivered), unsubscribed: ratio(row.unsubscribed, row.delivered) },
  }));
}
