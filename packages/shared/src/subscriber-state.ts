import type { SqlClient } from './db.js';
import { finishCampaignIfDone } from './campaign-state.js';

export type SuppressedStatus = 'unsubscribed' | 'bounced' | 'complained';

/**
 * Stops all mail to these subscribers: sets their status (an unsubscribe never hides a bounce or a
 * complaint already recorded), skips every delivery of theirs still queued in a running campaign,
 * and finishes campaigns that had nothing else left. Set-based, so a webhook batch of bounces is a
 * few statements. Returns how many subscribers changed status.
 */
export async function suppressSubscribers(db: SqlClient, subscriberIds: string[], status: SuppressedStatus): Promise<number> {
  if (subscriberIds.length === 0) return 0;
  const from = status === 'unsubscribed' ? ['pending', 'active'] : ['pending', 'active', 'unsubscribed'];
  const changed = await db.$executeRaw`
    UPDATE subscribers
    SET status = ${status}::subscriber_status, updated_at = now(),
        unsubscribed_at = CASE WHEN ${status} = 'unsubscribed' THEN now() ELSE unsubscribed_at END
    WHERE id = ANY(${subscriberIds}::uuid[]) AND status::text = ANY(${from}::text[])`;
  const touched = await db.$queryRaw<{ campaign_id: string }[]>`
    UPDATE deliveries SET status = 'skipped', last_error = ${`subscriber ${status}`}, updated_at = now()
    WHERE subscriber_id = ANY(${subscriberIds}::uuid[]) AND status = 'queued'
    RETURNING campaign_id`;
  for (const campaignId of new Set(touched.map((row) => row.campaign_id))) await finishCampaignIfDone(db, campaignId);
  return changed;
}
