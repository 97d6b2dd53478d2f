/** The reconciler's reads of `campaigns`: what is due to start, and what is sending. */
import { beforeEveryUuid } from '@herald/shared';
import type { SqlClient } from '@herald/shared';

/** Scheduled campaigns whose time has come, earliest first. */
export async function dueScheduledCampaigns(db: SqlClient): Promise<string[]> {
  const due = await db.$queryRaw<{ id: string }[]>`
    SELECT id FROM campaigns WHERE status = 'scheduled' AND send_at <= now() ORDER BY send_at`;
  return due.map(({ id }) => id);
}

/** When the campaign last changed state: the moment a campaign started, right after it did. */
export async function campaignUpdatedAt(db: SqlClient, campaignId: string): Promise<Date | null> {
  const [row] = await db.$queryRaw<{ updated_at: Date }[]>`SELECT updated_at FROM campaigns WHERE id = ${campaignId}::uuid`;
  return row?.updated_at ?? null;
}

export type SendingCampaign = {
  id: string;
  /** The last delivery id the fan-out has given a send job; null before its first page. */
  enqueuedThrough: string | null;
  /** Queued deliveries lie beyond `enqueuedThrough`: the fan-out has yet to reach them. */
  unreached: boolean;
};

export async function sendingCampaigns(db: SqlClient): Promise<SendingCampaign[]> {
  return db.$queryRaw<SendingCampaign[]>`
    SELECT c.id, c.enqueued_through AS "enqueuedThrough", EXISTS (
      SELECT 1 FROM deliveries d WHERE d.campaign_id = c.id AND d.status = 'queued'
        AND d.id > coalesce(c.enqueued_through, ${beforeEveryUuid}::uuid)) AS unreached
    FROM campaigns c WHERE c.status = 'sending'`;
}
