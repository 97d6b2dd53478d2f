import { Prisma } from '../generated/prisma/client.js';
import type { SqlClient } from '../db.js';
import { segmentPredicate } from './compile-segment.js';

export type CampaignSegment = { segmentId?: string | null; segmentRules?: unknown };

/**
 * The segment part of a campaign's audience, as a predicate over `subscribers s`: a saved
 * segment's rules as they are stored now, or the campaign's inline rules, or TRUE for neither
 * (the whole of its lists). A saved segment's rules were valid when saved; a list it names that
 * has been deleted since holds nobody. Inline rules are checked as a request's are: an unknown
 * list throws SegmentRuleError. A saved segment that no longer exists throws too (the foreign key
 * refuses its deletion while a campaign uses it).
 */
export async function campaignSegmentPredicate(db: SqlClient, { segmentId, segmentRules }: CampaignSegment): Promise<Prisma.Sql> {
  if (segmentId) {
    const [segment] = await db.$queryRaw<{ rules: unknown }[]>`SELECT rules FROM segments WHERE id = ${segmentId}::uuid`;
    if (!segment) throw new Error(`segment ${segmentId} does not exist`);
    return segmentPredicate(db, segment.rules, { unknownLists: 'match-nobody' });
  }
  if (segmentRules !== null && segmentRules !== undefined) return segmentPredicate(db, segmentRules);
  return Prisma.sql`TRUE`;
}
