import { Prisma, audienceSnapshotInsert } from '@herald/shared';
import type { Db, DeliveryStatus } from '@herald/shared';

/**
 * The web's statements on a campaign and its deliveries, in one place. Raw SQL where it earns its
 * keep (row locks, set-based requeues, keyset pages); Prisma for plain reads.
 */

type Tx = Prisma.TransactionClient;

const deliveryStatuses: DeliveryStatus[] = ['queued', 'sending', 'sent', 'failed', 'cancelled', 'skipped'];

/** Locks the campaign row until the transaction ends and returns it, or null if there is none. */
export async function lockCampaign(tx: Tx, id: string) {
  const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM campaigns WHERE id = ${id}::uuid FOR UPDATE`;
  return locked.length > 0 ? tx.campaign.findUnique({ where: { id } }) : null;
}

/**
 * Puts a campaign's `from` deliveries (back) in the queue. A delivery that is enqueued again
 * needs a new round, or BullMQ would ignore its job as a duplicate of the one that already ran
 * (see sendJobId). Returns how many moved.
 */
export function requeueDeliveries(tx: Tx, campaignId: string, from: 'queued' | 'failed'): Promise<number> {
  return tx.$executeRaw`
    UPDATE deliveries SET status = 'queued', round = round + 1, claimed_at = NULL, updated_at = now()
    WHERE campaign_id = ${campaignId}::uuid AND status = ${from}::delivery_status`;
}

/** Cancels every delivery of the campaign still waiting in the queue; returns how many. */
export function cancelQueuedDeliveries(tx: Tx, campaignId: string): Promise<number> {
  return tx.$executeRaw`
    UPDATE deliveries SET status = 'cancelled', updated_at = now()
    WHERE campaign_id = ${campaignId}::uuid AND status = 'queued'`;
}

/** Per-status delivery counts, always with every status present. */
export async function countDeliveries(db: Db, campaignId: string): Promise<Record<DeliveryStatus, number>> {
  const groups = await db.$queryRaw<{ status: DeliveryStatus; count: number }[]>`
    SELECT status::text AS status, count(*)::int AS count FROM deliveries WHERE campaign_id = ${campaignId}::uuid GROUP BY status`;
  const counts = Object.fromEntries(deliveryStatuses.map((status) => [status, 0])) as Record<DeliveryStatus, number>;
  for (const group of groups) counts[group.status] = group.count;
  return counts;
}

/** countDeliveries for several campaigns in one statement: every campaign asked for is present. */
export async function countDeliveriesByCampaign(db: Db, campaignIds: string[]): Promise<Map<string, Record<DeliveryStatus, number>>> {
  const empty = () => Object.fromEntries(deliveryStatuses.map((status) => [status, 0])) as Record<DeliveryStatus, number>;
  const counts = new Map(campaignIds.map((id) => [id, empty()]));
  if (campaignIds.length === 0) return counts;
  const groups = await db.$queryRaw<{ campaign_id: string; status: DeliveryStatus; count: number }[]>`
    SELECT campaign_id::text, status::text AS status, count(*)::int AS count
    FROM deliveries WHERE campaign_id = ANY(${campaignIds}::uuid[]) GROUP BY campaign_id, status`;
  for (const group of groups) {
    const campaign = counts.get(group.campaign_id);
    if (campaign) campaign[group.status] = group.count;
  }
  return counts;
}

/**
 * Delivery ids in id order as the inside of a JSON array of strings (`"id","id",...`; empty for
 * none), aggregated in Postgres so a million ids cross to Node as one 38 MB text value rather than
 * a million rows. A uuid's text form needs no JSON escaping.
 */
const taskIdList = Prisma.sql`coalesce(string_agg('"' || id::text || '"', ',' ORDER BY id), '')`;

/**
 * Every delivery id of the campaign (taskIdList). One statement, so the list is one MVCC snapshot
 * while workers change statuses.
 */
export async function readTaskIdList(db: Db, campaignId: string): Promise<string> {
  const [row] = await db.$queryRaw<{ ids: string }[]>`
    SELECT ${taskIdList} AS ids FROM deliveries WHERE campaign_id = ${campaignId}::uuid`;
  return row?.ids ?? '';
}

/**
 * Takes the campaign's audience (audienceSnapshotInsert) and returns its size and its task ids
 * (taskIdList) from the same statement, so a new campaign's ids are not read back a second time.
 */
export async function snapshotAudienceTaskIds(tx: Tx, campaignId: string): Promise<{ recipients: number; taskIds: string }> {
  const [row] = await tx.$queryRaw<{ recipients: number; ids: string }[]>`
    WITH added AS (${await audienceSnapshotInsert(tx, campaignId)} RETURNING id)
    SELECT count(*)::int AS recipients, ${taskIdList} AS ids FROM added`;
  return { recipients: row?.recipients ?? 0, taskIds: row?.ids ?? '' };
}

export type TaskRow = {
  id: string;
  campaignId: string;
  email: string | null;
  status: DeliveryStatus;
  attempts: number;
  lastError: string | null;
  providerMessageId: string | null;
  sentAt: Date | null;
};

/** A task is a delivery seen from outside; `email` is null once the subscriber was erased. */
const selectTasks = Prisma.sql`
  SELECT d.id, d.campaign_id AS "campaignId", s.email, d.status::text AS status, d.attempts,
         d.last_error AS "lastError", d.provider_message_id AS "providerMessageId", d.sent_at AS "sentAt"
  FROM deliveries d LEFT JOIN subscribers s ON s.id = d.subscriber_id`;

export async function findTask(db: Db, id: string): Promise<TaskRow | null> {
  const [task] = await db.$queryRaw<TaskRow[]>`${selectTasks} WHERE d.id = ${id}::uuid`;
  return task ?? null;
}

/**
 * One page of a campaign's tasks in id order (optionally of one status), after `afterId`. With a
 * status the (campaign_id, status, id) index serves it, without one (campaign_id, id).
 */
export function pageTasks(db: Db, campaignId: string, query: { status?: DeliveryStatus; afterId: string; limit: number }): Promise<TaskRow[]> {
  const status = query.status ? Prisma.sql`AND d.status = ${query.status}::delivery_status` : Prisma.empty;
  return db.$queryRaw<TaskRow[]>`
    ${selectTasks}
    WHERE d.campaign_id = ${campaignId}::uuid ${status} AND d.id > ${query.afterId}::uuid
    ORDER BY d.id LIMIT ${query.limit}`;
}

export function campaignExists(db: Db, id: string): Promise<boolean> {
  return db.campaign.count({ where: { id } }).then((count) => count > 0);
}
