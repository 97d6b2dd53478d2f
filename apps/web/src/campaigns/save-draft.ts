import type { Campaign, Db } from '@herald/shared';
import { DomainError } from '../domain-error.js';
import type { SendInput } from './campaign-schema.js';
import { editCampaign } from './edit-campaign.js';
import { recordAudience, resolveAudience } from './campaign-audience-input.js';
import type { CampaignTracking } from './campaign-tracking.js';
import { changedTrackingColumns, trackingColumns } from './campaign-tracking.js';

/**
 * Writes a draft: a new campaign in `draft` (no audience, nothing queued), or new content for an
 * existing one. Content can change only while nothing has been sent: a draft, or a scheduled
 * campaign that has not started, which goes through editCampaign (the API's PATCH) and its lock
 * against the scheduler. The status condition is in each UPDATE itself, so an edit racing a start
 * either lands before it (and is what gets sent) or is refused with 409. The draft's lists and
 * segment are recorded with its content (an unknown one throws AudienceInputError first). A new
 * draft takes `trackingDefaults` for the tracking settings the input leaves out.
 */
export async function saveDraft(db: Db, input: SendInput, trackingDefaults: CampaignTracking, id?: string): Promise<Campaign> {
  const content = { subject: input.subject, preheader: input.preheader?.trim() || null, html: input.body, format: input.format, inArchive: input.inArchive, text: input.text ?? null, sendAt: input.sendAt ?? null };
  const audience = await resolveAudience(db, input);
  const draft = await db.$transaction(async (tx) => {
    if (!id) {
      const created = await tx.campaign.create({ data: { ...content, ...trackingColumns(input.tracking, trackingDefaults), status: 'draft' } });
      await recordAudience(tx, created.id, audience);
      return created.id;
    }
    // Tracking left out keeps what the draft has; the defaults are for new campaigns only.
    const { count } = await tx.campaign.updateMany({ where: { id, status: 'draft' }, data: { ...content, ...changedTrackingColumns(input.tracking) } });
    if (count === 0) return null;
    await recordAudience(tx, id, audience);
    return id;
  });
  if (draft) return db.campaign.findUniqueOrThrow({ where: { id: draft } });
  const edit = await editCampaign(db, id!, {
    subject: input.subject,
    preheader: input.preheader?.trim() || null,
    body: input.body,
    format: input.format,
    inArchive: input.inArchive,
    text: input.text ?? null,
    ...(input.sendAt ? { sendAt: input.sendAt } : {}),
    ...(input.lists !== undefined ? { lists: input.lists } : {}),
    segment: input.segment ?? null,
    ...(input.tracking !== undefined ? { tracking: input.tracking } : {}),
  });
  if (edit.edited) return edit.campaign;
  if (!edit.campaign) throw new DomainError('not_found', 'No campaign with that id.');
  throw new DomainError('invalid_state', `The campaign is ${edit.campaign.status}; only drafts and scheduled campaigns that have not started can be edited.`);
}

/** Whether the admin pages may still change this campaign's content (as editCampaign allows). */
export function isEditable(campaign: Pick<Campaign, 'status' | 'startedAt' | 'sendAt'>): boolean {
  if (campaign.status === 'draft') return true;
  return (campaign.status === 'scheduled' || campaign.status === 'paused') && campaign.startedAt === null && campaign.sendAt !== null;
}
