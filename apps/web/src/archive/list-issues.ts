import type { Db } from '@herald/shared';
import type { PublishedCampaign } from './public-issue.js';

export type ArchiveEntry = { id: string; subject: string; sentAt: Date };

const listed = { status: 'sent', inArchive: true, startedAt: { not: null } } as const;

/**
 * Sent campaigns in the archive, newest first. A campaign counts as sent once it finished sending
 * (status `sent`); it is dated by when it started, the date its readers received it.
 */
export async function listIssues(db: Db, { limit, offset }: { limit: number; offset: number }): Promise<ArchiveEntry[]> {
  const rows = await db.campaign.findMany({
    where: listed,
    orderBy: [{ startedAt: 'desc' }, { id: 'desc' }],
    select: { id: true, subject: true, startedAt: true },
    take: limit,
    skip: offset,
  });
  return rows.map((row) => ({ id: row.id, subject: row.subject, sentAt: row.startedAt as Date }));
}

/** The newest archived issues with their bodies, for the feed. */
export async function latestIssues(db: Db, limit: number): Promise<(PublishedCampaign & { sentAt: Date; finishedAt: Date | null })[]> {
  const rows = await db.campaign.findMany({
    where: listed,
    orderBy: [{ startedAt: 'desc' }, { id: 'desc' }],
    select: { id: true, subject: true, html: true, format: true, startedAt: true, finishedAt: true },
    take: limit,
  });
  return rows.map(({ startedAt, ...row }) => ({ ...row, sentAt: startedAt as Date }));
}

/**
 * A campaign whose public page may be shown: any that has started sending, since its emails carry
 * the link (also those left out of the archive: the link works, the archive does not list them).
 * A scheduled or draft campaign is not published before it goes out.
 */
// Typed explicitly: `npm run build` emits declarations, which cannot name Prisma's inferred type.
export function findPublishedCampaign(
  db: Db,
  id: string,
): Promise<(PublishedCampaign & { startedAt: Date | null; inArchive: boolean }) | null> {
  return db.campaign.findFirst({
    where: { id, startedAt: { not: null } },
    select: { id: true, subject: true, html: true, format: true, startedAt: true, inArchive: true },
  });
}
