import { enqueueJob, finishCampaignIfDone, jobs, sendJobId, startScheduledCampaign } from '@herald/shared';
import type { ReconcilePayload } from '@herald/shared';
import type { Queue } from 'bullmq';
import { campaignUpdatedAt, dueScheduledCampaigns, sendingCampaigns } from '../campaigns/campaign-statements.js';
import { enqueueDeliveries } from '../campaigns/enqueue-deliveries.js';
import type { QueuedDelivery } from '../campaigns/enqueue-deliveries.js';
import { countQueuedWithinWindow, queuedDeliveryPages, recoverStuckDeliveries, startNextRound } from '../deliveries/recovery-statements.js';
import type { JobContext, WorkerDeps } from '../deps.js';
import { pruneAppliedEvents } from '../events/prune-events.js';
import type { PruneResult } from '../events/prune-events.js';
import { countUnprocessedEvents } from '../events/unprocessed-events.js';
import { pruneWebhookEvents } from '../webhooks/prune-webhook-events.js';
import { countUnsentConfirmations, enqueueUnsentConfirmations } from '../subscribers/enqueue-unsent-confirmations.js';
import { countUnsentInvitations, enqueueUnsentInvitations } from '../users/enqueue-unsent-invitations.js';
import { countOwedWelcomeEmails, requeueWelcomeEmails, resendStuckWelcomeEmails } from '../welcome-emails/requeue-welcome-emails.js';

const pageSize = 1_000;
/** The most time one run spends deleting expired events. */
const pruneBudgetMs = 20_000;

export type ReconcileReport = {
  scheduledStarted: number;
  stuckResent: number;
  stuckMarkedSent: number;
  requeued: number;
  /** Sending campaigns with deliveries never given a job and no fan-out running: a fan-out was started. */
  fanOutsRestarted: number;
  confirmationsQueued: number;
  /** Welcome emails a stopped worker left `sending`: queued and enqueued again. */
  welcomesStuckResent: number;
  /** Queued welcome emails with no job in Redis (or a finished one): enqueued. */
  welcomesQueued: number;
  /** Invitations asked for over a minute ago and never emailed: enqueued (a job still in Redis ignores the add). */
  invitationsQueued: number;
  /** Webhook events stored over a minute ago and still unprocessed; a processing job was queued for them. */
  unprocessedEvents: number;
  campaignsFinished: number;
  /** EVENT_RETENTION_DAYS: raw events deleted this run; null when unset. Housekeeping, not a repair. */
  eventsPruned: PruneResult | null;
  /** Outbound webhook events past WEBHOOK_RETENTION_DAYS deleted this run. Housekeeping, not a repair. */
  webhookEventsPruned: number;
};

const day = 24 * 60 * 60 * 1000;

/**
 * Makes Redis agree with Postgres again. Runs every minute and when a worker starts; every step is
 * idempotent, so overlapping runs on several workers do no harm.
 */
export async function reconcile(_payload: ReconcilePayload, ctx: JobContext, deps: WorkerDeps): Promise<ReconcileReport> {
  const { db, queues } = deps;
  const report: ReconcileReport = {
    scheduledStarted: await startDueCampaigns(deps),
    // The backstop for deliveries left `sending` by a worker that died mid-call, for what BullMQ's
    // stalled-job re-run did not recover first (see send-email.ts): SendGrid may or may not have
    // accepted the message, and a possible duplicate is preferred to a silently missed subscriber.
    // Workers that shut down gracefully finish their calls first, so this only follows crashes.
    ...(await recoverStuckDeliveries(db, new Date(Date.now() - deps.config.stuckSendingAfterMs))),
    requeued: 0,
    fanOutsRestarted: 0,
    confirmationsQueued: 0,
    welcomesStuckResent: await resendStuckWelcomeEmails(db, queues, new Date(Date.now() - deps.config.stuckSendingAfterMs)),
    welcomesQueued: 0,
    invitationsQueued: await enqueueUnsentInvitations(db, queues),
    unprocessedEvents: await queueUnprocessedEvents(deps),
    campaignsFinished: 0,
    eventsPruned: null,
    webhookEventsPruned: 0,
  };

  // The per-row checks below cost a Redis call per row, so they run only when Redis holds fewer
  // live jobs than Postgres has work waiting: after a flush or lost jobs, not on every minute of a
  // large send that is simply still going.
  // Confirmations, welcome emails and invitations share their queue, so all are owed its live jobs.
  const unsentConfirmations = await countUnsentConfirmations(db);
  const owedWelcomes = await countOwedWelcomeEmails(db);
  if (unsentConfirmations + owedWelcomes + (await countUnsentInvitations(db)) > (await liveJobs(queues.confirmations))) {
    if (unsentConfirmations > 0) report.confirmationsQueued = await enqueueUnsentConfirmations(db, queues);
    if (owedWelcomes > 0) report.welcomesQueued = await requeueWelcomeEmails(db, queues);
  }
  // The fan-out keeps only a window of send jobs in Redis: a queued delivery should have a job
  // only up to its campaign's `enqueued_through`. Beyond it the fan-out has yet to come, and the
  // one thing to check is that a fan-out is still running for the campaign.
  const sending = await sendingCampaigns(db);
  const checkOrphans = (await countQueuedWithinWindow(db)) > (await liveJobs(queues.sends));
  const fanningOut = await campaignsFanningOut(queues.campaigns);
  for (const campaign of sending) {
    if (checkOrphans && campaign.enqueuedThrough) report.requeued += await requeueOrphans(deps, campaign.id, campaign.enqueuedThrough);
    if (campaign.unreached && !fanningOut.has(campaign.id)) {
      // A restart is a fan-out of its own, keyed by this run; none is running for the campaign.
      const after = campaign.enqueuedThrough ?? undefined;
      await enqueueJob(queues, jobs.fanOut, after ? { campaignId: campaign.id, after } : { campaignId: campaign.id }, new Date());
      report.fanOutsRestarted += 1;
    }
    if (await finishCampaignIfDone(db, campaign.id)) report.campaignsFinished += 1;
  }
  for (const [kind, count] of Object.entries(report)) {
    if (typeof count === 'number' && kind !== 'webhookEventsPruned') deps.metrics.reconcilerRepairs.inc({ kind }, count);
  }
  // Last, after the repairs, which must not wait behind it.
  report.eventsPruned = await pruneExpiredEvents(deps);
  report.webhookEventsPruned = await pruneWebhookEvents(db, deps.config.webhooks.retentionDays, pruneBudgetMs);
  ctx.log.info(report, 'reconciled');
  return report;
}

/** Jobs a worker will still run: waiting, delayed (retries), active or prioritized. */
async function liveJobs(queue: Queue): Promise<number> {
  const counts = await queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized', 'waiting-children');
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

/** Campaigns with a fan-out job that will still run (it may be waiting for room in the send window). */
async function campaignsFanningOut(queue: Queue): Promise<Set<string>> {
  const live = await queue.getJobs(['waiting', 'delayed', 'active', 'prioritized']);
  return new Set(live.flatMap((job) => (typeof job?.data?.campaignId === 'string' ? [job.data.campaignId as string] : [])));
}

/**
 * Scheduled campaigns whose time has come start sending, each taking its audience as it starts
 * (see startScheduledCampaign), so whoever confirmed between scheduling and now receives it.
 */
async function startDueCampaigns({ db, queues }: WorkerDeps): Promise<number> {
  let started = 0;
  for (const id of await dueScheduledCampaigns(db)) {
    const recipients = await startScheduledCampaign(db, id);
    if (recipients === null) continue;
    started += 1;
    if (recipients === 0) continue;
    // The fan-out is keyed by the moment the campaign started (its updatedAt then).
    const startedAt = await campaignUpdatedAt(db, id);
    if (startedAt) await enqueueJob(queues, jobs.fanOut, { campaignId: id }, startedAt);
  }
  return started;
}

/**
 * Re-enqueues queued deliveries of a sending campaign, up to `through` (where the fan-out got to),
 * whose job Redis no longer holds (Redis restarted empty, a deploy dropped jobs) or whose job
 * finished without sending. The second case gets a new round, since BullMQ would ignore an add
 * under the id of a finished job it still remembers.
 */
async function requeueOrphans({ db, queues, config }: WorkerDeps, campaignId: string, through: string): Promise<number> {
  let requeued = 0;
  for await (const page of queuedDeliveryPages(db, campaignId, through, pageSize)) {
    const orphans = await findOrphans(queues.sends, page);
    const finished = orphans.filter((orphan) => orphan.finished).map((orphan) => orphan.id);
    if (finished.length > 0) await startNextRound(db, finished);
    await enqueueDeliveries(
      queues,
      orphans.map((orphan) => ({ id: orphan.id, round: orphan.finished ? orphan.round + 1 : orphan.round })),
      config.sendRetryDelayMs,
    );
    requeued += orphans.length;
  }
  return requeued;
}

/** Deliveries whose job is gone from Redis, or finished without sending (`finished`). */
async function findOrphans(queue: Queue, deliveries: QueuedDelivery[]) {
  const states = await Promise.all(deliveries.map((delivery) => queue.getJobState(sendJobId(delivery.id, delivery.round))));
  return deliveries.flatMap((delivery, i) => {
    const state = states[i];
    if (state === 'unknown') return [{ ...delivery, finished: false }];
    if (state === 'completed' || state === 'failed') return [{ ...delivery, finished: true }];
    return [];
  });
}

/** Queues a processing job for webhook events left unprocessed (see countUnprocessedEvents). */
async function queueUnprocessedEvents({ db, queues }: WorkerDeps): Promise<number> {
  const count = await countUnprocessedEvents(db);
  if (count > 0) await enqueueJob(queues, jobs.processEvents, {});
  return count;
}

/**
 * Deletes the raw events applied more than EVENT_RETENTION_DAYS ago (see pruneAppliedEvents), for
 * at most half the reconciler's period, so a backlog (retention just turned on) goes over several
 * runs rather than holding this one.
 */
async function pruneExpiredEvents({ db, config, metrics }: WorkerDeps): Promise<PruneResult | null> {
  if (config.eventRetentionDays === null) return null;
  const result = await pruneAppliedEvents(db, {
    before: new Date(Date.now() - config.eventRetentionDays * day),
    budgetMs: Math.min(pruneBudgetMs, config.reconcileEveryMs / 2),
  });
  metrics.eventsPruned.inc(result.pruned);
  return result;
}
