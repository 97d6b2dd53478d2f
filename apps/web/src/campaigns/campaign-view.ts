import type { Campaign, Db, DeliveryStatus, Prisma } from '@herald/shared';

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

export const taskSelect = {
  id: true,
  campaignId: true,
  subscriberId: true,
  status: true,
  attempts: true,
  lastError: true,
  providerMessageId: true,
  sentAt: true,
} as const;

type TaskRow = Prisma.DeliveryGetPayload<{ select: typeof taskSelect }>;

/**
 * Tasks are deliveries seen from outside, with the recipient's address looked up in one query for
 * the whole page; `email` is null once the subscriber was erased.
 */
export async function toTasks(db: Db, rows: TaskRow[]) {
  const ids = [...new Set(rows.flatMap((row) => (row.subscriberId ? [row.subscriberId] : [])))];
  const subscribers = ids.length ? await db.subscriber.findMany({ where: { id: { in: ids } }, select: { id: true, email: true } }) : [];
  const emails = new Map(subscribers.map((subscriber) => [subscriber.id, subscriber.email]));
  return rows.map((row) => ({
    id: row.id,
    campaignId: row.campaignId,
    email: (row.subscriberId && emails.get(row.subscriberId)) ?? null,
    status: row.status,
    attempts: row.attempts,
    lastError: row.lastError,
    providerMessageId: row.providerMessageId,
    sentAt: row.sentAt,
  }));
}

/**
 * Writes the campaign's task ids to `write` a page at a time, so a 100k-recipient answer never sits
 * in memory as one string. Pages follow the (campaign_id, status, id) index; right after `/send`
 * every delivery is queued, so that is simply id order.
 */
export async function writeTaskIds(db: Db, campaignId: string, write: (chunk: string) => void): Promise<void> {
  const pageSize = 10_000;
  let after: { status: string; id: string } = { status: 'queued', id: '00000000-0000-0000-0000-000000000000' };
  let separator = '';
  for (;;) {
    const page = await db.$queryRaw<{ id: string; status: string }[]>`
      SELECT id, status::text AS status FROM deliveries
      WHERE campaign_id = ${campaignId}::uuid
        AND (status, id) > (${after.status}::delivery_status, ${after.id}::uuid)
      ORDER BY status, id LIMIT ${pageSize}`;
    const last = page.at(-1);
    if (!last) return;
    write(separator + page.map((row) => `"${row.id}"`).join(','));
    separator = ',';
    after = last;
    if (page.length < pageSize) return;
  }
}
