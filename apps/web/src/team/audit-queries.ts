import { z } from 'zod';
import { storableText } from '@herald/shared';
import type { Db } from '@herald/shared';
import { auditActions } from './audit.js';

/**
 * A page position in the audit log: the id of the last entry shown, base64url-encoded so clients
 * treat it as opaque. Ids are a bigserial, so keyset paging by id descending is newest first.
 */
export function encodeAuditCursor(id: bigint): string {
  return Buffer.from(`audit:${id}`).toString('base64url');
}

const cursorMessage = 'expected a cursor from a previous page';

export const auditCursor = z
  .string()
  .max(64, cursorMessage)
  .regex(/^[A-Za-z0-9_-]+$/, cursorMessage)
  .transform((value, ctx) => {
    const id = /^audit:([1-9]\d{0,18})$/.exec(Buffer.from(value, 'base64url').toString('utf8'))?.[1];
    // Beyond a bigint no entry can be; refusing it keeps Postgres from answering an overflow.
    if (!id || BigInt(id) > 9223372036854775807n) {
      ctx.addIssue({ code: 'custom', message: cursorMessage });
      return z.NEVER;
    }
    return BigInt(id);
  });

/** Postgres has no year 0 (1 BC), which `0000-01-01` is to JavaScript: it would refuse the query. */
const earliestInstant = Date.parse('0001-01-01T00:00:00Z');

/** A day (`2026-12-01`, midnight UTC) or an ISO 8601 time with its offset, from year 1 on. */
const dayOrTime = z
  .union([z.iso.date(), z.iso.datetime({ offset: true })], { error: 'expected a date (YYYY-MM-DD) or an ISO 8601 time' })
  .refine((value) => !Number.isNaN(new Date(value).getTime()), 'expected a date (YYYY-MM-DD) or an ISO 8601 time')
  .refine((value) => new Date(value).getTime() >= earliestInstant, 'must be in year 1 or later');

/** `GET /audit`'s parameters, as the API description lists them. */
export const auditQueryFields = z.strictObject({
  // Compared with stored text, which Postgres refuses to do for a NUL.
  actor: storableText('actor')
    .trim()
    .min(1, 'must not be empty')
    .max(300, 'must be at most 300 characters')
    .optional()
    .meta({ description: 'Who acted: a user’s email (any case; their token requests included), a user id, or the text the log shows (`ADMIN_TOKEN`, an email tried at a failed login).' }),
  action: z.enum(auditActions).optional(),
  from: dayOrTime.optional().meta({ description: 'Entries at or after this time; a date means its midnight UTC.' }),
  to: dayOrTime.optional().meta({ description: 'Entries before this time; a date includes that whole day (UTC).' }),
  cursor: auditCursor.optional().meta({ description: 'The `nextCursor` of the previous page.' }),
  limit: z.coerce.number().int('must be a whole number').min(1, 'must be at least 1').max(200, 'must be at most 200').default(50),
});

/** `GET /audit`'s query, parsed. Every problem is answered 422 naming its parameter. */
export const auditListQuery = auditQueryFields.transform((query, ctx) => {
  const from = query.from ? new Date(query.from) : undefined;
  const to = query.to ? endOf(query.to) : undefined;
  if (from && to && from.getTime() >= to.getTime()) {
    ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
    return z.NEVER;
  }
  return { ...query, from, to };
});

export type AuditListQuery = z.output<typeof auditListQuery>;

/** The upper bound for `to`: a date includes its whole day. */
function endOf(value: string): Date {
  const date = new Date(value);
  if (/^\d{4}-\d\d-\d\d$/.test(value)) date.setUTCDate(date.getUTCDate() + 1);
  return date;
}

const uuid = z.uuid();

/**
 * Which entries an `actor` filter names. An email matches the user who has it (by id, so their
 * token requests count and a later change of email does not hide earlier entries) and any entry
 * showing exactly that text (a failed login with that email); a user id matches that user's entries.
 */
async function actorWhere(db: Db, actor: string) {
  if (uuid.safeParse(actor).success) return { actorUserId: actor.toLowerCase() };
  const user = await db.user.findUnique({ where: { email: actor.toLowerCase() }, select: { id: true } });
  const byText = { actor: { equals: actor, mode: 'insensitive' as const } };
  return user ? { OR: [{ actorUserId: user.id }, byText] } : byText;
}

export type AuditEntryView = {
  id: string;
  at: string;
  actor: string;
  actorUserId: string | null;
  actorTokenId: string | null;
  action: string;
  target: { type: string; id: string | null; label: string | null } | null;
  address: string | null;
  details: Record<string, unknown>;
};

/** A page of the audit log, newest first, with where the next one starts. */
export async function listAuditEntries(db: Db, query: AuditListQuery): Promise<{ entries: AuditEntryView[]; nextCursor: string | null }> {
  const rows = await db.auditEntry.findMany({
    where: {
      AND: [
        query.actor ? await actorWhere(db, query.actor) : {},
        query.action ? { action: query.action } : {},
        query.from || query.to ? { at: { ...(query.from && { gte: query.from }), ...(query.to && { lt: query.to }) } } : {},
        query.cursor ? { id: { lt: query.cursor } } : {},
      ],
    },
    orderBy: { id: 'desc' },
    take: query.limit + 1,
  });
  const page = rows.slice(0, query.limit);
  const entries: AuditEntryView[] = page.map((row) => ({
    id: row.id.toString(),
    at: row.at.toISOString(),
    actor: row.actor,
    actorUserId: row.actorUserId,
    actorTokenId: row.actorTokenId,
    action: row.action,
    target: row.targetType ? { type: row.targetType, id: row.targetId, label: row.targetLabel } : null,
    address: row.address,
    details: row.details as Record<string, unknown>,
  }));
  return { entries, nextCursor: rows.length > query.limit ? encodeAuditCursor(page.at(-1)!.id) : null };
}
