import { z } from 'zod';
import type { Campaign, Db } from '@herald/shared';
import { sendInput } from './campaign-schema.js';

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
});

export type EditInput = z.infer<typeof editInput>;

export type EditOutcome = { campaign: Campaign; edited: true } | { campaign: Campaign | null; edited: false };

/**
 * Edits a campaign before it starts: scheduled, or paused while still scheduled. The condition in
 * the update is the lock against the scheduler: an edit that lands first is what goes out; one that
 * comes after the start changes nothing (`edited: false`), since some emails may already be sent.
 */
export async function editCampaign(db: Db, id: string, input: EditInput): Promise<EditOutcome> {
  const { count } = await db.campaign.updateMany({
    where: { id, status: { in: ['scheduled', 'paused'] }, startedAt: null, sendAt: { not: null } },
    data: {
      ...(input.subject !== undefined ? { subject: input.subject } : {}),
      ...(input.body !== undefined ? { html: input.body } : {}),
      ...(input.format !== undefined ? { format: input.format } : {}),
      ...(input.text !== undefined ? { text: input.text } : {}),
      ...(input.preheader !== undefined ? { preheader: input.preheader?.trim() || null } : {}),
      ...(input.sendAt !== undefined ? { sendAt: input.sendAt } : {}),
      ...(input.inArchive !== undefined ? { inArchive: input.inArchive } : {}),
    },
  });
  const campaign = await db.campaign.findUnique({ where: { id } });
  return count > 0 && campaign ? { campaign, edited: true } : { campaign, edited: false };
}
