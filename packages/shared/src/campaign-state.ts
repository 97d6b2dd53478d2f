import type { Db, SqlClient } from './db.js';

/**
 * Marks a sending campaign `sent` once none of its deliveries is queued or in flight. Called after
 * every delivery reaches a final state; the check runs after that change committed, so whichever
 * delivery finishes last always sees the campaign done. Returns whether this call finished it.
 */
export async function finishCampaignIfDone(db: SqlClient, campaignId: string): Promise<boolean> {
  const finished = await db.$executeRaw`
    UPDATE campaigns SET status = 'sent', finished_at = now(), updated_at = now()
    WHERE id = ${campaignId}::uuid AND status = 'sending'
      AND NOT EXISTS (
        SELECT 1 FROM deliveries
        WHERE campaign_id = ${campaignId}::uuid AND status IN ('queued', 'sending'))`;
  return finished > 0;
}

/**
 * finishCampaignIfDone for each campaign a committed change skipped deliveries in. Functions that
 * skip deliveries inside a caller's transaction return the campaigns they touched for this: run in
 * that transaction, the check would not see a concurrent send's commit, nor that send this one's,
 * and neither would finish the campaign.
 */
export async function finishCampaigns(db: SqlClient, campaignIds: Iterable<string>): Promise<void> {
  for (const campaignId of new Set(campaignIds)) await finishCampaignIfDone(db, campaignId);
}

/** Pauses a sending campaign and records why, for the admin to read. */
export async function pauseCampaign(db: Db, campaignId: string, reason: string): Promise<void> {
  await db.campaign.updateMany({
    where: { id: campaignId, status: 'sending' },
    data: { status: 'paused', statusReason: reason },
  });
}
