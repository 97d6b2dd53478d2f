import type { Campaign, Db, DeliveryStatus } from '@herald/shared';

const deliveryStatuses: DeliveryStatus[] = ['queued', 'sending', 'sent', 'failed', 'cancelled', 'skipped'];

export function campaignLinks(id: string) {
  return { campaign: `/campaigns/${id}`, tasks: `/campaigns/${id}/tasks` };
}

/** Per-status delivery counts, always with every status present. */
export async function countDeliveries(db: Db, campaignId: string): Promise<Record<DeliveryStatus, number>> {
  const groups = await db.delivery.groupBy({ by: ['status'], where: { campaignId }, _count: { _all: true } });
  const counts = Object.fromEntries(deliveryStatuses.map((status) => [status, 0])) as Record<DeliveryStatus, number>;
  for (const group of groups) counts[group.status] = group._count._all;
  return counts;
}

/** The public shape of a campaign (without its body, which can be a megabyte). */
export function campaignSummary(campaign: Campaign) {
  return {
    id: campaign.id,
    subject: campaign.subject,
    status: campaign.status,
    statusReason: campaign.statusReason,
    recipients: campaign.recipientCount,
    sendAt: campaign.sendAt,
    createdAt: campaign.createdAt,
    startedAt: campaign.startedAt,
    finishedAt: campaign.finishedAt,
    links: campaignLinks(campaign.id),
  };
}

type TaskRow = {
  id: string;
  campaignId: string;
  status: DeliveryStatus;
  attempts: number;
  lastError: string | null;
  providerMessageId: string | null;
  sentAt: Date | null;
  subscriber: { email: string } | null;
};

export const taskSelect = {
  id: true,
  campaignId: true,
  status: true,
  attempts: true,
  lastError: true,
  providerMessageId: true,
  sentAt: true,
  subscriber: { select: { email: true } },
} as const;

/** A task is a delivery seen from outside; `email` is null once the subscriber was erased. */
export function taskView(row: TaskRow) {
  return {
    id: row.id,
    campaignId: row.campaignId,
    email: row.subscriber?.email ?? null,
    status: row.status,
    attempts: row.attempts,
    lastError: row.lastError,
    providerMessageId: row.providerMessageId,
    sentAt: row.sentAt,
  };
}

/**
 * Writes the campaign's task ids to `write` in pages, so a 100k-recipient answer never sits in
 * memory as one string.
 */
export async function writeTaskIds(db: Db, campaignId: string, write: (chunk: string) => void): Promise<void> {
  const pageSize = 10_000;
  let cursor = '00000000-0000-0000-0000-000000000000';
  let first = true;
  for (;;) {
    const page = await db.$queryRaw<{ id: string }[]>`
      SELECT id FROM deliveries WHERE campaign_id = ${campaignId}::uuid AND id > ${cursor}::uuid
      ORDER BY id LIMIT ${pageSize}`;
    if (page.length === 0) return;
    write((first ? '' : ',') + page.map((row) => `"${row.id}"`).join(','));
    first = false;
    cursor = page[page.length - 1]!.id;
    if (page.length < pageSize) return;
  }
}
