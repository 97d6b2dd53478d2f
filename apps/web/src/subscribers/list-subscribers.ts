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
  cursor: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

export type ListSubscribersQuery = z.infer<typeof listSubscribersQuery>;

/**
 * A page of subscribers in id order, which the primary key and the (status, id) index serve as a
 * range scan whatever the page; `nextCursor` is the last id, or null on the last page. `q` matches
 * a substring of the address or name, case-insensitively and literally (`%` and `_` are text).
 */
export async function listSubscribers(db: Db, query: ListSubscribersQuery): Promise<{ subscribers: SubscriberView[]; nextCursor: string | null }> {
  const conditions: Prisma.Sql[] = [];
  if (query.status) conditions.push(Prisma.sql`status = ${query.status}::subscriber_status`);
  if (query.q) {
    const pattern = `%${escapeLike(query.q)}%`;
    conditions.push(Prisma.sql`(email ILIKE ${pattern} OR name ILIKE ${pattern})`);
  }
  if (query.cursor) conditions.push(Prisma.sql`id > ${query.cursor}::uuid`);
  const where = conditions.length > 0 ? Prisma.sql`WHERE ${Prisma.join(conditions, ' AND ')}` : Prisma.empty;
  const rows = await db.$queryRaw<SubscriberView[]>`
    SELECT ${subscriberViewColumns} FROM subscribers ${where} ORDER BY id LIMIT ${query.limit + 1}`;
  const page = rows.slice(0, query.limit);
  return { subscribers: page, nextCursor: rows.length > query.limit ? (page.at(-1)?.id ?? null) : null };
}

/** Backslash is LIKE's default escape character. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, '\\$&');
}
