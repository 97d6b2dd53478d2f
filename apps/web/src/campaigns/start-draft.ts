import { snapshotAudience } from '@herald/shared';
import type { Campaign, Db } from '@herald/shared';
import { DomainError } from '../domain-error.js';

/**
 * Turns a reviewed draft into a real campaign, in ONE transaction as `POST /send` does: the status
 * change (to `sending`, or `scheduled` when it has a time) is the lock, so a double click starts it
 * once. One to send now takes its audience in the same transaction; a scheduled one takes it when
 * it starts (startScheduledCampaign), like a scheduled `POST /send`. A draft whose scheduled time
 * has passed is refused rather than sent at a time nobody chose.
 */
export async function startDraft(db: Db, id: string): Promise<Campaign> {
  return db.$transaction(
    async (tx) => {
      const started = await tx.$queryRaw<{ id: string; status: string }[]>`
        UPDATE campaigns
        SET status = CASE WHEN send_at IS NULL THEN 'sending'::campaign_status ELSE 'scheduled'::campaign_status END,
            started_at = CASE WHEN send_at IS NULL THEN now() END,
            updated_at = now()
        WHERE id = ${id}::uuid AND status = 'draft' AND (send_at IS NULL OR send_at > now())
        RETURNING id, status::text AS status`;
      if (started.length === 0) {
        const campaign = await tx.campaign.findUnique({ where: { id } });
        if (!campaign) throw new DomainError('not_found', 'No campaign with that id.');
        if (campaign.status === 'draft') throw new DomainError('invalid_state', 'The scheduled time has passed. Edit the draft and pick a new time, or clear it to send now.');
        throw new DomainError('invalid_state', `The campaign is already ${campaign.status}.`);
      }
      if (started[0]!.status === 'scheduled') return tx.campaign.findUniqueOrThrow({ where: { id } });
      const recipients = await snapshotAudience(tx, id);
      // An empty audience is a campaign that has nothing left to do.
      return tx.campaign.update({
        where: { id },
        data: recipients === 0 ? { recipientCount: 0, status: 'sent', finishedAt: new Date() } : { recipientCount: recipients },
      });
    },
    { timeout: 120_000, maxWait: 10_000 },
  );
}
