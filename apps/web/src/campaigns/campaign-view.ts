import { keysetPages } from '@herald/shared';
import type { Campaign, Db } from '@herald/shared';
import { pageDeliveryIds } from './campaign-queries.js';

export function campaignLinks(id: string) {
  return { campaign: `/campaigns/${id}`, tasks: `/campaigns/${id}/tasks` };
}

/** The public shape of a campaign (without its body, which can be a megabyte). */
export function campaignSummary(campaign: Campaign) {
  return {
    id: campaign.id,
    subject: campaign.subject,
    status: campaign.status,
    statusReason: campaign.statusReason,
    format: campaign.format,
    inArchive: campaign.inArchive,
    recipients: campaign.recipientCount,
    sendAt: campaign.sendAt,
    createdAt: campaign.createdAt,
    startedAt: campaign.startedAt,
    finishedAt: campaign.finishedAt,
    links: campaignLinks(campaign.id),
  };
}

/** Task ids per page of the `/send` answer. */
export const taskIdPageSize = 10_000;

/**
 * Writes the campaign's task ids to `write` a page at a time, so a 100k-recipient answer never sits
 * in memory as one string. Pages follow the delivery id alone: workers change statuses while the
 * answer is written (an idempotent replay comes mid-send), and an id never changes, so each id is
 * written exactly once.
 */
export async function writeTaskIds(db: Db, campaignId: string, write: (chunk: string) => void, pageSize = taskIdPageSize): Promise<void> {
  let separator = '';
  for await (const page of keysetPages((afterId, limit) => pageDeliveryIds(db, campaignId, afterId, limit), { pageSize })) {
    write(separator + page.map((row) => `"${row.id}"`).join(','));
    separator = ',';
  }
}
