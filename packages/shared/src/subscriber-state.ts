import type { SqlClient } from './db.js';

export type SuppressedStatus = 'unsubscribed' | 'bounced' | 'complained';

/**
 * Stops all mail to these subscribers: sets their status (an unsubscribe never hides a bounce or a
 * complaint already recorded) and skips every delivery of theirs still queued in a running
 * campaign. Set-based, so a webhook batch of bounces is a few statements. Returns how many
 * subscribers changed status, and the campaigns whose deliveries were skipped: pass those to
 * finishCampaigns once the transaction has committed.
 */
export async function suppressSubscribers(
  db: SqlClient,
  subscriberIds: string[],
  status: SuppressedStatus,
): Promise<{ changed: number; touchedCampaigns: string[] }> {
  if (subscriberIds.length === 0) return { changed: 0, touchedCampaigns: [] };
  const from = status === 'unsubscribed' ? ['pending', 'active'] : ['pending', 'active', 'unsubscribed'];
  const changed = await db.$executeRaw`
    UPDATE subscribers
    SET status = ${status}::subscriber_status, updated_at = now(),
        unsubscribed_at = CASE WHEN ${status} = 'unsubscribed' THEN now() ELSE unsubscribed_at END,
        -- The status has no time of its own: the audience growth report counts suppressions by this.
        suppressed_at = CASE WHEN ${status} <> 'unsubscribed' THEN now() ELSE suppressed_at END
    WHERE id = ANY(${subscriberIds}::uuid[]) AND status::text = ANY(${from}::text[])`;
  const touched = await db.$queryRaw<{ campaign_id: string }[]>`
    UPDATE deliveries SET status = 'skipped', last_error = ${`subscriber ${status}`}, updated_at = now()
    WHERE subscriber_id = ANY(${subscriberIds}::uuid[]) AND status = 'queued'
    RETURNING campaign_id`;
  return { changed, touchedCampaigns: [...new Set(touched.map((row) => row.campaign_id))] };
}
