import { finishCampaignIfDone } from '@herald/shared';
import type { Db } from '@herald/shared';
import { forgetAuditedSubscriber, recordAudit } from '../team/audit.js';
import type { Actor } from '../team/actor.js';

/**
 * GDPR erasure. In one transaction: the person's deliveries still queued are skipped (nothing more
 * goes to them), the webhook events about them are cut down to their type, time, bounce kind and a
 * digest of the link clicked (SendGrid's payload carries the address, IP and user agent), and the subscriber row is deleted; the delete
 * trigger then detaches their deliveries and events. Delivery rows stay, anonymous, so campaign
 * counts stay right. Campaigns left with nothing queued are finished after the commit, as
 * finishCampaignIfDone requires. The audit log keeps its entries about the person but not their
 * address, and records the erasure (by whom, not of whom), in the same transaction. Returns false
 * if there was no such subscriber.
 */
export async function eraseSubscriber(db: Db, subscriberId: string, by: { actor: Actor; address: string | undefined }): Promise<boolean> {
  const touchedCampaigns = await db.$transaction(async (tx) => {
    const found = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM subscribers WHERE id = ${subscriberId}::uuid FOR UPDATE`;
    if (found.length === 0) return undefined;
    const skipped = await tx.$queryRaw<{ campaign_id: string }[]>`
      UPDATE deliveries SET status = 'skipped', last_error = 'subscriber erased', updated_at = now()
      WHERE subscriber_id = ${subscriberId}::uuid AND status = 'queued'
      RETURNING campaign_id`;
    // What the reports count stays, so a rebuild of the aggregates from events still agrees: a
    // bounce's kind, and for a click a digest of the link (the link itself may be personalised).
    await tx.$executeRaw`
      UPDATE email_events
      SET payload = jsonb_build_object('event', type, 'timestamp', floor(extract(epoch FROM occurred_at))::bigint)
        || jsonb_strip_nulls(jsonb_build_object('type', payload->'type', 'url_hash', md5(payload->>'url')))
      WHERE subscriber_id = ${subscriberId}::uuid
         OR delivery_id IN (SELECT id FROM deliveries WHERE subscriber_id = ${subscriberId}::uuid)`;
    // Webhook events kept raw because they were malformed carry the address too.
    await tx.$executeRaw`
      DELETE FROM malformed_email_events WHERE email = (SELECT email FROM subscribers WHERE id = ${subscriberId}::uuid)`;
    await tx.$executeRaw`DELETE FROM subscribers WHERE id = ${subscriberId}::uuid`;
    await forgetAuditedSubscriber(tx, subscriberId);
    await recordAudit(tx, { ...by, action: 'subscriber.erased', target: { type: 'subscriber', id: subscriberId } });
    return new Set(skipped.map((row) => row.campaign_id));
  });
  if (!touchedCampaigns) return false;
  for (const campaignId of touchedCampaigns) await finishCampaignIfDone(db, campaignId);
  return true;
}
