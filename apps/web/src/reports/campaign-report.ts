import type { Campaign, Db, DeliveryStatus } from '@herald/shared';
import { countDeliveries } from '../campaigns/campaign-queries.js';
import { readAudience } from '../campaigns/campaign-audience-input.js';
import type { AudienceView } from '../campaigns/campaign-audience-input.js';
import { reportKinds } from './report-kinds.js';
import type { ReportKind } from './report-kinds.js';
import { writtenLinks } from './written-links.js';

export type ReportTotals = {
  sent: number;
  delivered: number;
  /** Open events; `uniqueOpened` counts recipients. */
  opened: number;
  uniqueOpened: number;
  clicked: number;
  uniqueClicked: number;
  bounced: number;
  complained: number;
  unsubscribed: number;
  /** Refused for now by the receiving server (a `bounce` of type `blocked`): the address is fine. */
  blocked: number;
  dropped: number;
  /** Deliveries Herald gave up on (the provider refused them for good). */
  failed: number;
};

/** Fractions, 0 to 1, to four places; null where the denominator is zero. */
export type ReportRates = {
  /** delivered / sent */
  delivered: number | null;
  /** uniqueOpened / delivered */
  opened: number | null;
  /** uniqueClicked / delivered */
  clicked: number | null;
  /** uniqueClicked / uniqueOpened */
  clickToOpen: number | null;
  /** bounced / sent: a bounced message was never delivered, so it is a share of what was sent. */
  bounced: number | null;
  /** complained / delivered */
  complained: number | null;
  /** unsubscribed / delivered */
  unsubscribed: number | null;
};

export type TimelineBucket = {
  /** Where the bucket starts (UTC). */
  at: Date;
  size: 'hour' | 'day';
  delivered: number;
  opened: number;
  uniqueOpened: number;
  clicked: number;
  uniqueClicked: number;
  bounced: number;
  complained: number;
  unsubscribed: number;
};

export type ReportLink = {
  /** The link as written in the body; for the footer's links, a description. */
  url: string;
  /** `link`: written in the body (or the layout); the unsubscribe and preference links are kept apart. */
  kind: 'link' | 'unsubscribe' | 'preferences';
  clicks: number;
  uniqueClicks: number;
};

export type CampaignReport = {
  campaignId: string;
  status: Campaign['status'];
  startedAt: Date | null;
  finishedAt: Date | null;
  audience: AudienceView;
  /** Whether SendGrid tracked opens and clicks: with either off, its figures stay at zero. */
  tracking: { opens: boolean; clicks: boolean };
  totals: ReportTotals;
  rates: ReportRates;
  timeline: TimelineBucket[];
  links: ReportLink[];
  /** The server's clock when this was read. */
  at: Date;
};

const hour = 3_600_000;
const day = 24 * hour;
/** The first two days hour by hour, when most opens and clicks happen; then day by day. */
const hourlyFor = 48 * hour;

const ratio = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : null);

type HourRow = { kind: ReportKind; hour: Date; events: number; uniques: number };

/**
 * The buckets from the hour the campaign started to the last event (or now, within the first two
 * days), every bucket present, empty ones at zero, so a chart's x axis is time.
 */
export function timelineOf(rows: HourRow[], startedAt: Date | null, now: Date): TimelineBucket[] {
  const first = startedAt ?? rows[0]?.hour;
  if (!first) return [];
  const start = Math.floor(first.getTime() / hour) * hour;
  const lastEvent = Math.max(start, ...rows.map((row) => row.hour.getTime()));
  const end = Math.max(lastEvent, Math.min(now.getTime(), start + hourlyFor - hour));
  const buckets: TimelineBucket[] = [];
  const empty = (at: number, size: TimelineBucket['size']): TimelineBucket => ({
    at: new Date(at), size, delivered: 0, opened: 0, uniqueOpened: 0, clicked: 0, uniqueClicked: 0, bounced: 0, complained: 0, unsubscribed: 0,
  });
  for (let at = start; at <= end && at < start + hourlyFor; at += hour) buckets.push(empty(at, 'hour'));
  for (let at = start + hourlyFor; at <= end; at += day) buckets.push(empty(at, 'day'));
  const indexOf = (time: number) => (time < start + hourlyFor ? Math.floor((time - start) / hour) : 48 + Math.floor((time - start - hourlyFor) / day));
  for (const row of rows) {
    const bucket = buckets[indexOf(row.hour.getTime())];
    if (!bucket) continue; // before the start: an event dated earlier than the send, clock skew
    switch (row.kind) {
      case 'opened':
        bucket.opened += row.events;
        bucket.uniqueOpened += row.uniques;
        break;
      case 'clicked':
        bucket.clicked += row.events;
        bucket.uniqueClicked += row.uniques;
        break;
      case 'delivered':
      case 'bounced':
      case 'complained':
      case 'unsubscribed':
        bucket[row.kind] += row.uniques;
        break;
      default:
        break;
    }
  }
  return buckets;
}

/** A campaign's event aggregates for one kind: summed over hours, or one hour's. */
export type KindCount = { kind: ReportKind; events: number; uniques: number };

/**
 * The report's figures from the delivery counts and the event aggregates (any number of rows per
 * kind: they are summed, so one row per hour and one per kind give the same totals).
 */
export function reportTotals(counts: Record<DeliveryStatus, number>, rows: KindCount[]): ReportTotals {
  const events = Object.fromEntries(reportKinds.map((kind) => [kind, { events: 0, uniques: 0 }])) as Record<ReportKind, { events: number; uniques: number }>;
  for (const row of rows) {
    // A kind the aggregates may gain later is not a figure of this report yet.
    if (!(row.kind in events)) continue;
    events[row.kind].events += row.events;
    events[row.kind].uniques += row.uniques;
  }
  return {
    sent: counts.sent,
    delivered: events.delivered.uniques,
    opened: events.opened.events,
    uniqueOpened: events.opened.uniques,
    clicked: events.clicked.events,
    uniqueClicked: events.clicked.uniques,
    bounced: events.bounced.uniques,
    complained: events.complained.uniques,
    unsubscribed: events.unsubscribed.uniques,
    blocked: events.blocked.uniques,
    dropped: events.dropped.uniques,
    failed: counts.failed,
  };
}

export function reportRates(totals: ReportTotals): ReportRates {
  return {
    delivered: ratio(totals.delivered, totals.sent),
    opened: ratio(totals.uniqueOpened, totals.delivered),
    clicked: ratio(totals.uniqueClicked, totals.delivered),
    clickToOpen: ratio(totals.uniqueClicked, totals.uniqueOpened),
    bounced: ratio(totals.bounced, totals.sent),
    complained: ratio(totals.complained, totals.delivered),
    unsubscribed: ratio(totals.unsubscribed, totals.delivered),
  };
}

/**
 * The clicks per link. SendGrid reports the URL the recipient followed, which for a link with a
 * placeholder, and for the footer's unsubscribe and preference links, is a different URL per
 * recipient: those are put back together under the link as written. The footer's links are
 * grouped in SQL, as there may be one row per person; the body's links are matched here.
 */
async function readLinks(db: Db, campaign: Campaign, publicUrl: string): Promise<ReportLink[]> {
  const rows = await db.$queryRaw<{ kind: ReportLink['kind']; url: string; clicks: number; unique_clicks: number }[]>`
    SELECT kind, min(url) AS url, sum(clicks)::int AS clicks, sum(unique_clicks)::int AS unique_clicks FROM (
      SELECT CASE WHEN starts_with(url, ${`${publicUrl}/unsubscribe/`}) THEN 'unsubscribe'
                  WHEN starts_with(url, ${`${publicUrl}/preferences/`}) THEN 'preferences'
                  ELSE 'link' END AS kind, url, clicks, unique_clicks
      FROM campaign_link_clicks WHERE campaign_id = ${campaign.id}::uuid
    ) classified
    GROUP BY kind, CASE WHEN kind = 'link' THEN url END`;
  const written = writtenLinks(campaign.html, campaign.format);
  const links = new Map<string, ReportLink>();
  for (const link of written) links.set(`link:${link.url}`, { url: link.url, kind: 'link', clicks: 0, uniqueClicks: 0 });
  for (const row of rows) {
    const url =
      row.kind === 'unsubscribe' ? 'Unsubscribe link' : row.kind === 'preferences' ? 'Preference centre link' : (written.find((link) => link.matches(row.url))?.url ?? row.url);
    const key = `${row.kind}:${url}`;
    const link = links.get(key) ?? { url, kind: row.kind, clicks: 0, uniqueClicks: 0 };
    link.clicks += row.clicks;
    link.uniqueClicks += row.unique_clicks;
    links.set(key, link);
  }
  // Most clicked first; at a tie the body's links before the footer's, in the order written.
  const kindOrder: ReportLink['kind'][] = ['link', 'unsubscribe', 'preferences'];
  const writtenOrder = (link: ReportLink) => {
    const index = written.findIndex((candidate) => candidate.url === link.url);
    return index === -1 ? written.length : index;
  };
  return [...links.values()].sort(
    (a, b) => b.clicks - a.clicks || kindOrder.indexOf(a.kind) - kindOrder.indexOf(b.kind) || writtenOrder(a) - writtenOrder(b) || a.url.localeCompare(b.url),
  );
}

/**
 * A campaign's report, read from the aggregates the worker keeps as it applies events (so it
 * costs O(hours × kinds + links) however many events there were) and the deliveries' counts.
 * Events count once the worker has applied them, a second or so after SendGrid posts them.
 */
export async function readCampaignReport(db: Db, campaign: Campaign, publicUrl: string, now = new Date()): Promise<CampaignReport> {
  const [counts, hours, links, audience] = await Promise.all([
    countDeliveries(db, campaign.id),
    db.$queryRaw<HourRow[]>`
      SELECT kind, hour, events, uniques FROM campaign_event_hours WHERE campaign_id = ${campaign.id}::uuid ORDER BY hour`,
    readLinks(db, campaign, publicUrl),
    readAudience(db, campaign.id),
  ]);
  const totals = reportTotals(counts, hours);
  return {
    campaignId: campaign.id,
    status: campaign.status,
    startedAt: campaign.startedAt,
    finishedAt: campaign.finishedAt,
    audience,
    tracking: { opens: campaign.trackOpens, clicks: campaign.trackClicks },
    totals,
    rates: reportRates(totals),
    timeline: timelineOf(hours, campaign.startedAt, now),
    links,
    at: now,
  };
}
