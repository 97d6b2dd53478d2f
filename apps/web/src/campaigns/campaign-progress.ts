import type { Campaign, Db, DeliveryStatus } from '@herald/shared';
import { countCampaignEvents } from '../webhooks/count-campaign-events.js';
import type { CampaignEventCounts } from '../webhooks/count-campaign-events.js';
import { allowedActions } from './allowed-actions.js';
import type { CampaignAction } from './campaign-actions.js';
import { countDeliveries } from './campaign-queries.js';

export type CampaignProgress = {
  id: string;
  status: Campaign['status'];
  statusReason: string | null;
  total: number;
  counts: Record<DeliveryStatus, number>;
  /** Deliveries that reached an end: sent, failed or skipped. */
  done: number;
  /** done / total, 0-100, one decimal; 100 for a finished empty audience. */
  percent: number;
  /** Average since the campaign started, per minute; null before it started or once it is over. */
  ratePerMinute: number | null;
  /** Seconds until the queued and in-flight deliveries are done at that rate, or null. */
  etaSeconds: number | null;
  events: CampaignEventCounts;
  actions: CampaignAction[];
  startedAt: Date | null;
  finishedAt: Date | null;
  /** The server's clock when this was read, so a page can measure the current rate between polls. */
  at: Date;
};

/** Where a campaign stands, for its page and the JSON the page polls. */
export async function readCampaignProgress(db: Db, campaign: Campaign, now: Date = new Date()): Promise<CampaignProgress> {
  const [counts, events] = await Promise.all([countDeliveries(db, campaign.id), countCampaignEvents(db, campaign.id)]);
  const total = Object.values(counts).reduce((sum, count) => sum + count, 0);
  const done = counts.sent + counts.failed + counts.skipped;
  const left = counts.queued + counts.sending;
  const elapsedSeconds = campaign.startedAt ? (now.getTime() - campaign.startedAt.getTime()) / 1000 : 0;
  const running = campaign.status === 'sending' && elapsedSeconds > 0;
  const perSecond = running && done > 0 ? done / elapsedSeconds : null;
  return {
    id: campaign.id,
    status: campaign.status,
    statusReason: campaign.statusReason,
    total,
    counts,
    done,
    // No deliveries: a scheduled campaign that has not taken its audience yet, or an empty one.
    percent: total === 0 ? (campaign.status === 'sent' ? 100 : 0) : Math.floor((done / total) * 1000) / 10,
    ratePerMinute: perSecond === null ? null : Math.round(perSecond * 60),
    etaSeconds: perSecond === null || left === 0 ? null : Math.ceil(left / perSecond),
    events,
    actions: allowedActions(campaign.status, counts),
    startedAt: campaign.startedAt,
    finishedAt: campaign.finishedAt,
    at: now,
  };
}
