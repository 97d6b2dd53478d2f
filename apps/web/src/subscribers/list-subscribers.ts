import { z } from 'zod';
import { Prisma } from '@herald/shared';
import type { Db } from '@herald/shared';
import { storableText } from '@herald/shared';
import { subscriberStatuses, subscriberViewColumns } from './subscriber-view.js';
import type { SubscriberView } from './subscriber-view.js';

export const listSubscribersQuery = z.object({
  status: z.enum(subscriberStatuses).optional(),
  q: storableText('q')
    .trim()
    .max(254)
    .optional()
    .transform((q) => q || undefined),
  /** A list's id or slug: only people with a subscription to it (in `subscription` status, if given). */
  list: storableText('list').trim().min(1).max(100).optional(),
  subscription: z.enum(['pending', 'active', 'unsubscribed']).optional(),
  /** A saved segment's id: only the people it selects. */
  segment: z.uuid({ error: 'segment must be a saved segment id' }).optional(),
  cursor: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

export type ListSubscribersQuery = z.infer<typeof listSubscribersQuery>;

/** The filters once the list is resolved to its id and the segment compiled to a predicate over `s`. */
export type SubscriberFilter = {
  status?: ListSubscribersQuery['status'];
  q?: string;
  listId?: string;
  subscription?: ListSubscribersQuery['subscription'];
  segment?: Prisma.Sql;
};

/** The WHERE conditions of a filter, over `subscribers s`. */
export function subscriberFilterConditions(filter: SubscriberFilter): Prisma.Sql[] {
  const conditions: Prisma.Sql[] = [];
  if (filter.status) conditions.push(Prisma.sql`s.status = ${filter.status}::subscriber_status`);
  if (filter.q) {
    const pattern = `%${escapeLike(filter.q)}%`;
    conditions.push(Prisma.sql`(s.email ILIKE ${pattern} OR s.name ILIKE ${pattern})`);
  }
  if (filter.listId) {
    // A probe of the subscriptions primary key (subscriber, list) per row of the id-ordered walk.
    conditions.push(Prisma.sql`EXISTS (
      SELECT 1 FROM subscriptions sub WHERE sub.subscriber_id = s.id AND sub.list_id = ${filter.listId}::uuid
      ${filter.subscription ? Prisma.sql`AND sub.status = ${filter.subscription}::subscription_status` : Prisma.empty})`);
  }
  if (filter.segment) conditions.push(filter.segment);
  return conditions;
}

/**
 * A page of subscribers in id order, which the primary key and the (status, id) index serve as a
 * range scan whatever the page; `nextCursor` is the last id, or null on the last page. `q` matches
 * a substring of the address or name, case-insensitively and literally (`%` and `_` are text).
 */
export async function listSubscribers(
  db: Db,
  query: SubscriberFilter & { cursor?: string; limit: number },
): Promise<{ subscribers: SubscriberView[]; nextCursor: string | null }> {
  const conditions = subscriberFilterConditions(query);
  if (query.cursor) conditions.push(Prisma.sql`s.id > ${query.cursor}::uuid`);
  const where = conditions.length > 0 ? Prisma.sql`WHERE ${Prisma.join(conditions, ' AND ')}` : Prisma.empty;
  const rows = await db.$queryRaw<SubscriberView[]>`
    SELECT ${subscriberViewColumns} FROM subscribers
    WHERE id IN (SELECT s.id FROM subscribers s ${where} ORDER BY s.id LIMIT ${query.limit + 1})
    ORDER BY id`;
  const page = rows.slice(0, query.limit);
  return { subscribers: page, nextCursor: rows.length > query.limit ? (page.at(-1)?.id ?? null) : null };
}

/** Backslash is LIKE's default escape character. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, '\\$&');
}
