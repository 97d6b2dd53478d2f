import { enqueueJob, jobs, startScheduledCampaign } from '@herald/shared';
import type { Campaign, CampaignStatus, Db, Logger, Prisma, Queues } from '@herald/shared';
import { DomainError } from '../domain-error.js';
import { enqueueOrDefer } from '../jobs/enqueue-or-defer.js';
import { lockCampaign, requeueDeliveries, cancelQueuedDeliveries } from './campaign-queries.js';

export const campaignActions = ['pause', 'resume', 'cancel', 'retry-failed'] as const;
export type CampaignAction = (typeof campaignActions)[number];

export function isCampaignAction(value: unknown): value is CampaignAction {
  return (campaignActions as readonly unknown[]).includes(value);
}

type Deps = { db: Db; queues: Queues; log: Logger };

/** What an action did: the campaign as it left it, and how many deliveries it moved. */
export type CampaignActionResult = {
  campaign: Campaign;
  changed: { requeued: number; cancelled: number };
};

/** Which statuses each action starts from. */
const allowedFrom: Record<CampaignAction, CampaignStatus[]> = {
  pause: ['sending', 'scheduled'],
  resume: ['paused'],
  cancel: ['sending', 'scheduled', 'paused'],
  'retry-failed': ['sent', 'sending', 'paused'],
};

/**
 * Applies an admin action to a campaign in ONE transaction that holds the campaign row
 * (`FOR UPDATE`) from the state check to the commit: two actions on one campaign run one after the
 * other, each sees what the previous one left, and a refused action (409) has changed nothing.
 * Deliveries a worker releases back to `queued` meanwhile wait for the same row (see the
 * requeue trigger), so a cancelled campaign never gets a delivery requeued after its cancel.
 * What needs Redis or a transaction of its own comes after the commit: the fan-out (the reconciler
 * covers a Redis outage), and starting a resumed scheduled campaign whose time has passed.
 */
export async function applyCampaignAction({ db, queues, log }: Deps, id: string, action: CampaignAction): Promise<CampaignActionResult> {
  const { result, then } = await db.$transaction(async (tx) => {
    const current = await lockCampaign(tx, id);
    if (!current) throw new DomainError('not_found', 'No campaign with that id.');
    if (!allowedFrom[action].includes(current.status)) {
      throw new DomainError('invalid_state', `The campaign is ${current.status}; ${action} works only when it is ${allowedFrom[action].join(' or ')}.`);
    }
    return applyLocked(tx, current, action);
    // Actions on one campaign queue up on its row lock, and a requeue can move a whole audience:
    // wait and run longer than Prisma's defaults (2 s to start, 5 s to finish) before giving up.
  }, { maxWait: 10_000, timeout: 120_000 });
  // Keyed by the moment the campaign (re)entered `sending`: each start is a fan-out of its own.
  const fanOut = (started: Campaign) =>
    enqueueOrDefer('campaign fan-out', () => enqueueJob(queues, jobs.fanOut, { campaignId: id }, started.updatedAt), log);
  if (then === 'fan-out') await fanOut(result.campaign);
  if (then === 'start-if-due') {
    // startScheduledCampaign's conditional update settles a race with the scheduler: one starts it.
    const recipients = await startScheduledCampaign(db, id);
    if (recipients === null) return result;
    const started = (await db.campaign.findUnique({ where: { id } })) ?? result.campaign;
    if (recipients > 0) await fanOut(started);
    return { ...result, campaign: started };
  }
  return result;
}

type Locked = { result: CampaignActionResult; then: 'fan-out' | 'start-if-due' | null };

async function applyLocked(
  tx: Prisma.TransactionClient,
  current: Campaign,
  action: CampaignAction,
): Promise<Locked> {
  const id = current.id;
  const none = { requeued: 0, cancelled: 0 };
  const update = (data: Prisma.CampaignUpdateInput) => tx.campaign.update({ where: { id }, data });
  switch (action) {
    case 'pause':
      // Deliveries already in flight finish; the rest wait in `queued`.
      return { result: { campaign: await update({ status: 'paused', statusReason: 'Paused by an admin.' }), changed: none }, then: null };

    case 'resume': {
      if (current.sendAt && !current.startedAt) {
        // Paused before it started: it has no audience yet. Back to scheduled; if its time has
        // passed, it starts after the commit, taking the audience as the scheduler would.
        return { result: { campaign: await update({ status: 'scheduled', statusReason: null }), changed: none }, then: 'start-if-due' };
      }
      const campaign = await update({ status: 'sending', statusReason: null, startedAt: current.startedAt ?? new Date() });
      const requeued = await requeueDeliveries(tx, id, 'queued');
      return { result: { campaign, changed: { requeued, cancelled: 0 } }, then: 'fan-out' };
    }

    case 'cancel': {
      const campaign = await update({ status: 'cancelled', finishedAt: new Date() });
      const cancelled = await cancelQueuedDeliveries(tx, id);
      return { result: { campaign, changed: { requeued: 0, cancelled } }, then: null };
    }

    case 'retry-failed': {
      // A paused campaign keeps its retried deliveries queued until it is resumed.
      const campaign = current.status === 'paused' ? current : await update({ status: 'sending', finishedAt: null });
      const requeued = await requeueDeliveries(tx, id, 'failed');
      if (requeued === 0) throw new DomainError('invalid_state', 'The campaign has no failed deliveries to retry.');
      return { result: { campaign, changed: { requeued, cancelled: 0 } }, then: campaign.status === 'sending' ? 'fan-out' : null };
    }
  }
}
