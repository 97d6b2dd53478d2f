import { z } from 'zod';
import type { Campaign, Db } from '@herald/shared';
import { sendInput } from './campaign-schema.js';
import { audienceFields, recordAudience, resolveAudience } from './campaign-audience-input.js';
import { changedTrackingColumns, trackingInput } from './campaign-tracking.js';

const fields = sendInput.shape;

/**
 * A change to a campaign that has not started: any of the fields `POST /send` takes. `text: null`
 * goes back to a text part derived from the body. Unknown fields are refused, as for `/send`.
 */
export const editInput = z.strictObject({
  subject: fields.subject.optional(),
  body: fields.body.optional(),
  format: z.enum(['html', 'markdown'], { error: 'format must be "html" or "markdown"' }).optional(),
  text: fields.text.unwrap().nullable().optional(),
  /** `null` goes back to the body's first sentence. */
  preheader: fields.preheader.unwrap().nullable().optional(),
  sendAt: fields.sendAt.unwrap().optional(),
  inArchive: z.boolean({ error: 'inArchive must be true or false' }).optional(),
  /** Replaces the campaign's lists. */
  lists: audienceFields.lists,
  /** A saved segment's id or inline rules; `null` removes the segment. */
  segment: audienceFields.segment.unwrap().nullable().optional(),
  /** Changes only the settings it names. */
  tracking: trackingInput.optional(),
});

export type EditInput = z.infer<typeof editInput>;

export type EditOutcome = { campaign: Campaign; edited: true } | { campaign: Campaign | null; edited: false };

/**
 * Edits a campaign before it starts: scheduled, or paused while still scheduled. The condition in
 * the update is the lock against the scheduler: an edit that lands first is what goes out; one that
 * comes after the start changes nothing (`edited: false`), since some emails may already be sent.
 * New lists or a new segment are resolved first (AudienceInputError, nothing written) and recorded
 * in the transaction of the conditional update: lists alone keep the segment, and the reverse.
 */
export async function editCampaign(db: Db, id: string, input: EditInput): Promise<EditOutcome> {
  const changesAudience = input.lists !== undefined || input.segment !== undefined;
  const current = changesAudience ? await db.campaign.findUnique({ where: { id }, select: { segmentId: true, segmentRules: true } }) : null;
  if (changesAudience && !current) return { campaign: null, edited: false };
  const audience = changesAudience
    ? await resolveAudience(db, {
        lists: input.lists ?? (await currentListRefs(db, id)),
        segment: input.segment !== undefined ? input.segment : ((current!.segmentId ?? current!.segmentRules) as string | Record<string, unknown> | null),
      })
    : null;
  const count = await db.$transaction(async (tx) => {
    const { count: updated } = await tx.campaign.updateMany({
      where: { id, status: { in: ['scheduled', 'paused'] }, startedAt: null, sendAt: { not: null } },
      data: {
        ...(input.subject !== undefined ? { subject: input.subject } : {}),
        ...(input.body !== undefined ? { html: input.body } : {}),
        ...(input.format !== undefined ? { format: input.format } : {}),
        ...(input.text !== undefined ? { text: input.text } : {}),
        ...(input.preheader !== undefined ? { preheader: input.preheader?.trim() || null } : {}),
        ...(input.sendAt !== undefined ? { sendAt: input.sendAt } : {}),
        ...(input.inArchive !== undefined ? { inArchive: input.inArchive } : {}),
        // Under the same lock as the content: every recipient of a campaign gets one message.
        ...changedTrackingColumns(input.tracking),
      },
    });
    if (updated > 0 && audience) await recordAudience(tx, id, audience);
    return updated;
  });
  const campaign = await db.campaign.findUnique({ where: { id } });
  return count > 0 && campaign ? { campaign, edited: true } : { campaign, edited: false };
}

/** The lists a campaign records, as ids, to keep them when an edit changes only the segment. */
async function currentListRefs(db: Db, id: string): Promise<string[] | undefined> {
  const rows = await db.campaignList.findMany({ where: { campaignId: id }, orderBy: [{ position: 'asc' }, { listId: 'asc' }], select: { listId: true } });
  return rows.length > 0 ? rows.map((row) => row.listId) : undefined;
}
