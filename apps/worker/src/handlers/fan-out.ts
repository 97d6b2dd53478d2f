import type { FanOutPayload } from '@herald/shared';
import { finishCampaignIfDone, pauseCampaign } from '@herald/shared';
import { enqueueDeliveries } from '../campaigns/enqueue-deliveries.js';
import type { QueuedDelivery } from '../campaigns/enqueue-deliveries.js';
import type { JobContext, WorkerDeps } from '../deps.js';

const pageSize = 1_000;

export type FanOutOutcome = { status: 'enqueued'; deliveries: number } | { status: 'skipped' | 'paused' };

/**
 * Enqueues a send job for every queued delivery of a sending campaign, a page at a time (keyset
 * pagination on the delivery id, so a page costs the same at the end as at the start).
 */
export async function fanOut(payload: FanOutPayload, ctx: JobContext, deps: WorkerDeps): Promise<FanOutOutcome> {
  const { db, queues, config } = deps;
  const campaign = await db.campaign.findUnique({ where: { id: payload.campaignId }, select: { status: true } });
  if (campaign?.status !== 'sending') return { status: 'skipped' };

  if (config.env === 'production' && !config.mail.postalAddress) {
    // CAN-SPAM: bulk mail must carry a postal address. Refuse on the campaign, where the admin sees it.
    await pauseCampaign(db, payload.campaignId, 'Paused: set MAIL_POSTAL_ADDRESS; every campaign email must carry a postal address.');
    return { status: 'paused' };
  }

  let cursor = '00000000-0000-0000-0000-000000000000';
  let total = 0;
  for (;;) {
    const page = await db.$queryRaw<QueuedDelivery[]>`
      SELECT id, round FROM deliveries
      WHERE campaign_id = ${payload.campaignId}::uuid AND status = 'queued' AND id > ${cursor}::uuid
      ORDER BY id LIMIT ${pageSize}`;
    await enqueueDeliveries(queues.sends, page, config.sendRetryDelayMs);
    total += page.length;
    const last = page.at(-1);
    if (!last || page.length < pageSize) break;
    cursor = last.id;
  }
  ctx.log.info({ campaignId: payload.campaignId, deliveries: total }, 'campaign fanned out');
  // Everything may already be final (a resume with nothing left, say).
  await finishCampaignIfDone(db, payload.campaignId);
  return { status: 'enqueued', deliveries: total };
}
