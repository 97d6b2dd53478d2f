import { enqueueJob, jobs, startScheduledCampaign } from '@herald/shared';
import type { Campaign, CampaignStatus, Db, Logger, Queues } from '@herald/shared';
import { enqueueOrDefer } from '../http/enqueue-or-defer.js';
import { HttpError } from '../http/http-error.js';

export const campaignActions = ['pause', 'resume', 'cancel', 'retry-failed'] as const;
export type CampaignAction = (typeof campaignActions)[number];

export function isCampaignAction(value: unknown): value is CampaignAction {
  return (campaignActions as readonly unknown[]).includes(value);
}

type Deps = { db: Db; queues: Queues; log: Logger };

/** Moves the campaign from one of `from` to `to`, or answers 409 naming the current status. */
async function transition(db: Pick<Db, 'campaign'>, id: string, from: CampaignStatus[], data: Partial<Campaign>): Promise<Campaign> {
  const { count } = await db.campaign.updateMany({ where: { id, status: { in: from } }, data });
  const campaign = await db.campaign.findUnique({ where: { id } });
  if (!campaign) throw new HttpError(404, 'not_found', 'No campaign with that id.');
  if (count === 0) {
    throw new HttpError(409, 'invalid_state', `The campaign is ${campaign.status}; this works only when it is ${from.join(' or ')}.`);
  }
  return campaign;
}

/**
 * A delivery that is enqueued again needs a new round, or BullMQ would ignore its job as a
 * duplicate of the one that already ran (see sendJobId).
 */
async function requeue(db: Db, campaignId: string, from: 'queued' | 'failed'): Promise<void> {
  await db.$executeRaw`
    UPDATE deliveries SET status = 'queued', round = round + 1, claimed_at = NULL, updated_at = now()
    WHERE campaign_id = ${campaignId}::uuid AND status = ${from}::delivery_status`;
}

export async function applyCampaignAction({ db, queues, log }: Deps, id: string, action: CampaignAction): Promise<Campaign> {
  // The new state is in Postgres before the fan-out is enqueued; the reconciler covers a Redis outage.
  // Keyed by the moment the campaign (re)entered `sending`: each start is a fan-out of its own.
  const fanOut = (started: Campaign) =>
    enqueueOrDefer('campaign fan-out', () => enqueueJob(queues, jobs.fanOut, { campaignId: id }, started.updatedAt), log);
  switch (action) {
    case 'pause':
      // Deliveries already in flight finish; the rest wait in `queued`.
      return transition(db, id, ['sending', 'scheduled'], { status: 'paused', statusReason: 'Paused by an admin.' });

    case 'resume': {
      const current = await db.campaign.findUnique({ where: { id } });
      if (current?.sendAt && !current.startedAt) {
        // Paused before it started: it has no audience yet. Back to scheduled; if its time has
        // passed, start it now, taking the audience as the scheduler would.
        const scheduled = await transition(db, id, ['paused'], { status: 'scheduled', statusReason: null });
        const recipients = await startScheduledCampaign(db, id);
        if (recipients === null) return scheduled;
        const started = (await db.campaign.findUnique({ where: { id } })) ?? scheduled;
        if (recipients > 0) await fanOut(started);
        return started;
      }
      const campaign = await transition(db, id, ['paused'], { status: 'sending', statusReason: null, startedAt: current?.startedAt ?? new Date() });
      await requeue(db, id, 'queued');
      await fanOut(campaign);
      return campaign;
    }

    case 'cancel': {
      // Both in one transaction: no delivery can be claimed between the two updates that a
      // cancelled campaign would then send.
      return db.$transaction(async (tx) => {
        const campaign = await transition(tx, id, ['sending', 'scheduled', 'paused'], { status: 'cancelled', finishedAt: new Date() });
        await tx.delivery.updateMany({ where: { campaignId: id, status: 'queued' }, data: { status: 'cancelled' } });
        return campaign;
      });
    }

    case 'retry-failed': {
      const campaign = await transition(db, id, ['sent', 'sending', 'paused'], {});
      await requeue(db, id, 'failed');
      if (campaign.status === 'paused') return campaign;
      const restarted = await transition(db, id, ['sent', 'sending'], { status: 'sending', finishedAt: null });
      await fanOut(restarted);
      return restarted;
    }
  }
}
