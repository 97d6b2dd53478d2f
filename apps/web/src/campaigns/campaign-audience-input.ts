import { z } from 'zod';
import { SegmentRuleError, defaultListId, findLists, parseSegmentRules, segmentPredicate } from '@herald/shared';
import type { Audience, SqlClient } from '@herald/shared';

/**
 * A campaign's audience as a client names it: `lists` (ids or slugs, in order; the default list
 * when absent) and `segment` (a saved segment's id, or inline rules; `null` on an edit clears it).
 * The schema checks the shape only; resolveAudience checks the lists and segment exist.
 */
export const audienceFields = {
  lists: z
    .array(z.string({ error: 'lists must hold list ids or slugs' }).min(1, 'a list id or slug must not be empty').max(200, 'a list id or slug must be at most 200 characters'), {
      error: 'lists must be an array of list ids or slugs',
    })
    .min(1, 'lists must name at least one list')
    .max(100, 'lists must name at most 100 lists')
    .optional(),
  segment: z
    .union([z.uuid({ error: 'segment must be a saved segment id or a rule object' }), z.record(z.string(), z.unknown())], {
      error: 'segment must be a saved segment id or a rule object',
    })
    .optional(),
};

export type AudienceInput = { lists?: string[] | undefined; segment?: string | Record<string, unknown> | null | undefined };

/** A list or segment the request names that cannot be used: answered as 422, per field. */
export class AudienceInputError extends Error {
  override name = 'AudienceInputError';
  constructor(readonly fields: Record<string, string>) {
    super('Some fields need attention.');
  }
}

/**
 * Resolves a requested audience to the ids the campaign records. Unknown or archived lists, an
 * unknown segment and rules that do not fit throw AudienceInputError naming the field
 * (`lists.1`, `segment`, `segment.all.0.op`). A list named twice counts once, at its first place.
 * `segment` left out means none.
 */
export async function resolveAudience(db: SqlClient, input: AudienceInput): Promise<Audience> {
  const fields: Record<string, string> = {};
  let listIds: string[];
  if (input.lists === undefined) {
    listIds = [await defaultListId(db)];
  } else {
    const found = await findLists(db, input.lists);
    input.lists.forEach((ref, index) => {
      if (!found.some((list) => list.ref === ref)) fields[`lists.${index}`] = `no list with the id or slug ${JSON.stringify(ref)} (or it is archived)`;
    });
    listIds = [...new Set(found.map((list) => list.id))];
  }

  let segmentId: string | null = null;
  let segmentRules: unknown = null;
  if (typeof input.segment === 'string') {
    const [segment] = await db.$queryRaw<{ id: string }[]>`SELECT id FROM segments WHERE id = ${input.segment}::uuid`;
    if (segment) segmentId = segment.id;
    else fields.segment = 'no saved segment with that id';
  } else if (input.segment) {
    const parsed = parseSegmentRules(input.segment, 'segment');
    if (!parsed.success) {
      fields[parsed.error.field] = parsed.error.message;
    } else {
      try {
        // Compiled once here only to check the lists it names exist; the start compiles it again.
        await segmentPredicate(db, parsed.rules);
        segmentRules = parsed.rules;
      } catch (err) {
        if (!(err instanceof SegmentRuleError)) throw err;
        fields[err.field.replace(/^rules/, 'segment')] = err.message;
      }
    }
  }
  if (Object.keys(fields).length > 0) throw new AudienceInputError(fields);
  return { listIds, segmentId, segmentRules };
}

/**
 * Records a campaign's audience: its lists (position = the order given) and its segment. Call it
 * in the transaction that creates or edits the campaign.
 */
export async function recordAudience(tx: SqlClient, campaignId: string, audience: Audience): Promise<void> {
  await tx.$executeRaw`DELETE FROM campaign_lists WHERE campaign_id = ${campaignId}::uuid`;
  await tx.$executeRaw`
    INSERT INTO campaign_lists (campaign_id, list_id, position)
    SELECT ${campaignId}::uuid, l.id, l.position - 1
    FROM unnest(${audience.listIds}::uuid[]) WITH ORDINALITY AS l(id, position)`;
  await tx.$executeRaw`
    UPDATE campaigns SET segment_id = ${audience.segmentId}::uuid,
      segment_rules = ${audience.segmentRules === null ? null : JSON.stringify(audience.segmentRules)}::jsonb, updated_at = now()
    WHERE id = ${campaignId}::uuid`;
}

export type AudienceView = {
  lists: { id: string; slug: string; name: string }[];
  segment: { id: string; name: string } | { rules: unknown } | null;
};

/** The lists and segment a campaign records, for its page and `GET /campaigns/:id`. */
export async function readAudience(db: SqlClient, campaignId: string): Promise<AudienceView> {
  const [lists, segments] = await Promise.all([
    db.$queryRaw<{ id: string; slug: string; name: string }[]>`
      SELECT l.id, l.slug, l.name FROM campaign_lists cl JOIN lists l ON l.id = cl.list_id
      WHERE cl.campaign_id = ${campaignId}::uuid ORDER BY cl.position, l.id`,
    db.$queryRaw<{ segment_id: string | null; segment_name: string | null; segment_rules: unknown }[]>`
      SELECT c.segment_id, sg.name AS segment_name, c.segment_rules FROM campaigns c
      LEFT JOIN segments sg ON sg.id = c.segment_id WHERE c.id = ${campaignId}::uuid`,
  ]);
  const row = segments[0];
  const segment =
    row?.segment_id ? { id: row.segment_id, name: row.segment_name ?? '' } : row?.segment_rules !== null && row?.segment_rules !== undefined ? { rules: row.segment_rules } : null;
  return { lists, segment };
}
