import { Prisma } from '@herald/shared';
import type { Db, SqlClient } from '@herald/shared';
import { subscriberViewColumns } from '../subscribers/subscriber-view.js';
import type { SubscriberView } from '../subscribers/subscriber-view.js';
import type { CreateListInput, EditListInput } from './list-schema.js';
import { slugFromName } from './list-schema.js';

export const subscriptionStatuses = ['pending', 'active', 'unsubscribed'] as const;
export type SubscriptionCounts = Record<(typeof subscriptionStatuses)[number], number>;

/** A list as the API and the admin show it. */
export type ListView = {
  id: string;
  name: string;
  slug: string;
  description: string | null;
  visibility: 'public' | 'private';
  doubleOptIn: boolean;
  isDefault: boolean;
  welcome: { subject: string; body: string; format: 'html' | 'markdown' } | null;
  archivedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  /** Subscriptions per status (the people's own suppression is not taken into account). */
  counts: SubscriptionCounts;
};

type ListRow = Omit<ListView, 'welcome' | 'counts'> & {
  welcomeSubject: string | null;
  welcomeBody: string | null;
  welcomeFormat: 'html' | 'markdown';
  pending: number;
  active: number;
  unsubscribed: number;
};

/**
 * The lists with their counts per status, counted in one pass over the (list_id, status,
 * subscriber_id) index. `where` picks the lists.
 */
async function readLists(db: SqlClient, where: Prisma.Sql): Promise<ListView[]> {
  const rows = await db.$queryRaw<ListRow[]>`
    SELECT l.id, l.name, l.slug, l.description, l.visibility::text AS visibility, l.double_opt_in AS "doubleOptIn",
           l.is_default AS "isDefault", l.welcome_subject AS "welcomeSubject", l.welcome_body AS "welcomeBody",
           l.welcome_format::text AS "welcomeFormat", l.archived_at AS "archivedAt", l.created_at AS "createdAt",
           l.updated_at AS "updatedAt",
           coalesce(c.pending, 0)::int AS pending, coalesce(c.active, 0)::int AS active, coalesce(c.unsubscribed, 0)::int AS unsubscribed
    FROM lists l
    LEFT JOIN LATERAL (
      SELECT count(*) FILTER (WHERE status = 'pending') AS pending,
             count(*) FILTER (WHERE status = 'active') AS active,
             count(*) FILTER (WHERE status = 'unsubscribed') AS unsubscribed
      FROM subscriptions WHERE list_id = l.id
    ) c ON true
    WHERE ${where}
    ORDER BY l.is_default DESC, l.archived_at IS NOT NULL, l.created_at, l.id`;
  return rows.map(({ welcomeSubject, welcomeBody, welcomeFormat, pending, active, unsubscribed, ...list }) => ({
    ...list,
    welcome: welcomeSubject !== null && welcomeBody !== null ? { subject: welcomeSubject, body: welcomeBody, format: welcomeFormat } : null,
    counts: { pending, active, unsubscribed },
  }));
}

/** Every list, the default first, archived ones last (with `includeArchived`). */
export function listLists(db: SqlClient, options: { includeArchived?: boolean } = {}): Promise<ListView[]> {
  return readLists(db, options.includeArchived ? Prisma.sql`true` : Prisma.sql`l.archived_at IS NULL`);
}

const uuidShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One list by id or slug, archived ones included; null when there is none. */
export async function findList(db: SqlClient, ref: string): Promise<ListView | null> {
  const where = uuidShape.test(ref) ? Prisma.sql`l.id = ${ref}::uuid` : Prisma.sql`l.slug = ${ref}`;
  const [list] = await readLists(db, where);
  return list ?? null;
}

export type CreateListResult = { created: true; list: ListView } | { created: false; slug: string };

/**
 * Creates a list. A slug the client chose and that is taken is refused (the caller answers 409); a
 * slug derived from the name gets the first free `-2`, `-3`, … suffix instead. The unique index
 * decides races: two creations with one slug make one list.
 */
export async function createList(db: Db, input: CreateListInput): Promise<CreateListResult> {
  const base = input.slug ?? slugFromName(input.name);
  for (let attempt = 1; attempt <= 50; attempt++) {
    const slug = attempt === 1 ? base : `${base}-${attempt}`;
    const [row] = await db.$queryRaw<{ id: string }[]>`
      INSERT INTO lists (name, slug, description, visibility, double_opt_in, welcome_subject, welcome_body, welcome_format)
      VALUES (${input.name}, ${slug}, ${input.description || null}, ${input.visibility}::list_visibility, ${input.doubleOptIn},
              ${input.welcome?.subject ?? null}, ${input.welcome?.body ?? null}, ${input.welcome?.format ?? 'markdown'}::campaign_format)
      ON CONFLICT (slug) DO NOTHING
      RETURNING id`;
    if (row) return { created: true, list: (await findList(db, row.id))! };
    if (input.slug) return { created: false, slug };
  }
  return { created: false, slug: base };
}

export type EditListResult = { outcome: 'edited'; list: ListView; before: ListView } | { outcome: 'not_found' } | { outcome: 'archived' } | { outcome: 'slug_taken'; slug: string };

/** Changes the fields given; an archived list is not edited. */
export async function editList(db: Db, ref: string, input: EditListInput): Promise<EditListResult> {
  const list = await findList(db, ref);
  if (!list) return { outcome: 'not_found' };
  if (list.archivedAt) return { outcome: 'archived' };
  const sets: Prisma.Sql[] = [Prisma.sql`updated_at = now()`];
  if (input.name !== undefined) sets.push(Prisma.sql`name = ${input.name}`);
  if (input.slug !== undefined) sets.push(Prisma.sql`slug = ${input.slug}`);
  if (input.description !== undefined) sets.push(Prisma.sql`description = ${input.description || null}`);
  if (input.visibility !== undefined) sets.push(Prisma.sql`visibility = ${input.visibility}::list_visibility`);
  if (input.doubleOptIn !== undefined) sets.push(Prisma.sql`double_opt_in = ${input.doubleOptIn}`);
  if (input.welcome === null) sets.push(Prisma.sql`welcome_subject = NULL, welcome_body = NULL`);
  else if (input.welcome !== undefined) {
    sets.push(Prisma.sql`welcome_subject = ${input.welcome.subject}, welcome_body = ${input.welcome.body}, welcome_format = ${input.welcome.format}::campaign_format`);
  }
  if (input.slug !== undefined && input.slug !== list.slug) {
    // The unique index is the real guard; this turns the common case into a clear answer.
    const [taken] = await db.$queryRaw<{ id: string }[]>`SELECT id FROM lists WHERE slug = ${input.slug} AND id <> ${list.id}::uuid`;
    if (taken) return { outcome: 'slug_taken', slug: input.slug };
  }
  try {
    await db.$executeRaw`UPDATE lists SET ${Prisma.join(sets, ', ')} WHERE id = ${list.id}::uuid AND archived_at IS NULL`;
  } catch (err) {
    if (input.slug !== undefined && isUniqueViolation(err)) return { outcome: 'slug_taken', slug: input.slug };
    throw err;
  }
  return { outcome: 'edited', list: (await findList(db, list.id))!, before: list };
}

export type RemoveListResult = { outcome: 'deleted'; list: ListView } | { outcome: 'archived'; list: ListView } | { outcome: 'not_found' } | { outcome: 'default' };

/**
 * Deletes a list, or archives it when a campaign went to it (the campaign's audience stays named;
 * an archived list takes no new subscribers and is no longer offered). The default list stays.
 * The list row is locked first, so a campaign created meanwhile is either seen or waits.
 */
export async function removeList(db: Db, ref: string): Promise<RemoveListResult> {
  return db.$transaction(async (tx) => {
    const found = await findList(tx, ref);
    if (!found) return { outcome: 'not_found' };
    if (found.isDefault) return { outcome: 'default' };
    await tx.$queryRaw`SELECT id FROM lists WHERE id = ${found.id}::uuid FOR UPDATE`;
    const [used] = await tx.$queryRaw<{ one: number }[]>`SELECT 1 AS one FROM campaign_lists WHERE list_id = ${found.id}::uuid LIMIT 1`;
    if (used) {
      await tx.$executeRaw`UPDATE lists SET archived_at = coalesce(archived_at, now()), updated_at = now() WHERE id = ${found.id}::uuid`;
      return { outcome: 'archived', list: (await findList(tx, found.id))! };
    }
    await tx.$executeRaw`DELETE FROM lists WHERE id = ${found.id}::uuid`;
    return { outcome: 'deleted', list: found };
  });
}

/** A subscriber as a list shows them: the person and their subscription to it. */
export type ListMemberView = SubscriberView & {
  subscription: { status: string; consentAt: Date | null; consentSource: string | null; confirmedAt: Date | null; unsubscribedAt: Date | null };
};

type MemberRow = SubscriberView & {
  subscriptionStatus: string;
  subscriptionConsentAt: Date | null;
  subscriptionConsentSource: string | null;
  subscriptionConfirmedAt: Date | null;
  subscriptionUnsubscribedAt: Date | null;
};

/** A page of a list's subscribers in subscriber id order (keyset: `cursor` is the last id seen). */
export async function listMembers(
  db: SqlClient,
  listId: string,
  query: { status?: (typeof subscriptionStatuses)[number]; cursor?: string; limit: number },
): Promise<{ subscribers: ListMemberView[]; nextCursor: string | null }> {
  const rows = await db.$queryRaw<MemberRow[]>`
    SELECT person.*,
           sub.status::text AS "subscriptionStatus", sub.consent_at AS "subscriptionConsentAt",
           sub.consent_source AS "subscriptionConsentSource", sub.confirmed_at AS "subscriptionConfirmedAt",
           sub.unsubscribed_at AS "subscriptionUnsubscribedAt"
    FROM subscriptions sub
    -- A subquery of its own: the view's column names are the subscriber's, not the subscription's.
    CROSS JOIN LATERAL (SELECT ${subscriberViewColumns} FROM subscribers WHERE subscribers.id = sub.subscriber_id) person
    WHERE sub.list_id = ${listId}::uuid
      ${query.status ? Prisma.sql`AND sub.status = ${query.status}::subscription_status` : Prisma.empty}
      ${query.cursor ? Prisma.sql`AND sub.subscriber_id > ${query.cursor}::uuid` : Prisma.empty}
    ORDER BY sub.subscriber_id LIMIT ${query.limit + 1}`;
  const page = rows.slice(0, query.limit).map(
    ({ subscriptionStatus, subscriptionConsentAt, subscriptionConsentSource, subscriptionConfirmedAt, subscriptionUnsubscribedAt, ...subscriber }) => ({
      ...subscriber,
      subscription: {
        status: subscriptionStatus,
        consentAt: subscriptionConsentAt,
        consentSource: subscriptionConsentSource,
        confirmedAt: subscriptionConfirmedAt,
        unsubscribedAt: subscriptionUnsubscribedAt,
      },
    }),
  );
  return { subscribers: page, nextCursor: rows.length > query.limit ? (page.at(-1)?.id ?? null) : null };
}

/** Postgres's unique_violation (23505), as the driver adapter reports it under Prisma's error. */
function isUniqueViolation(err: unknown): boolean {
  const meta = (err as { meta?: { code?: unknown; driverAdapterError?: { cause?: { originalCode?: unknown; kind?: unknown } } } }).meta;
  return meta?.code === '23505' || meta?.driverAdapterError?.cause?.originalCode === '23505' || meta?.driverAdapterError?.cause?.kind === 'UniqueConstraintViolation';
}
