import type { FanOutPayload } from '@herald/shared';
import { beforeEveryUuid, finishCampaignIfDone, pauseCampaign } from '@herald/shared';
import { enqueueDeliveries } from '../campaigns/enqueue-deliveries.js';
import type { QueuedDelivery } from '../campaigns/enqueue-deliveries.js';
import type { JobContext, WorkerDeps } from '../deps.js';

const pageSize = 1_000;

export type FanOutOutcome =
  | { status: 'enqueued'; deliveries: number }
  /** The send window is full: run again later from `after` (the adapter delays the same job). */
  | { status: 'waiting'; after: string; deliveries: number }
  | { status: 'skipped' | 'paused' };

/**
 * Gives the queued deliveries of a sending campaign their send jobs, keeping at most
 * SEND_WINDOW jobs waiting in Redis: it adds pages while there is room, then answers `waiting`
 * with where it got to, and the adapter runs it again shortly. Redis memory so depends on the
 * window, not on the audience. Keyset pagination on the delivery id makes a page cost the same at
 * the end as at the start. Every delivery up to the last one enqueued is recorded in the campaign's
 * `enqueued_through`, which tells the reconciler where Redis should already hold jobs.
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

  let cursor = payload.after ?? beforeEveryUuid;
  let total = 0;
  for (;;) {
    const room = config.sendWindow - (await queues.sends.getWaitingCount());
    if (room <= 0) return { status: 'waiting', after: cursor, deliveries: total };
    const limit = Math.min(pageSize, room);
    const page = await db.$queryRaw<QueuedDelivery[]>`
      SELECT id, round FROM deliveries
      WHERE campaign_id = ${payload.campaignId}::uuid AND status = 'queued' AND id > ${cursor}::uuid
      ORDER BY id LIMIT ${limit}`;
    await enqueueDeliveries(queues, page, config.sendRetryDelayMs);
    total += page.length;
    const last = page.at(-1);
    if (last) {
      await db.$executeRaw`
        UPDATE campaigns SET enqueued_through = ${last.id}::uuid
        WHERE id = ${payload.campaignId}::uuid AND (enqueued_through IS NULL OR enqueued_through < ${last.id}::uuid)`;
    }
    if (!last || page.length < limit) break;
    cursor = last.id;
  }
  ctx.log.info({ campaignId: payload.campaignId, deliveries: total }, 'campaign fanned out');
  // Everything may already be final (a resume with nothing left, say).
  await finishCampaignIfDone(db, payload.campaignId);
  return { status: 'enqueued', deliveries: total };
}
