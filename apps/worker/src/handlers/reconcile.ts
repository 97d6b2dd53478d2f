import { beforeEveryUuid, enqueueJob, finishCampaignIfDone, jobs, keysetPages, sendJobId, startScheduledCampaign } from '@herald/shared';
import type { ReconcilePayload } from '@herald/shared';
import type { Queue } from 'bullmq';
import { enqueueDeliveries } from '../campaigns/enqueue-deliveries.js';
import type { QueuedDelivery } from '../campaigns/enqueue-deliveries.js';
import type { JobContext, WorkerDeps } from '../deps.js';
import { enqueueUnsentConfirmations } from '../subscribers/enqueue-unsent-confirmations.js';

const pageSize = 1_000;

export type ReconcileReport = {
  scheduledStarted: number;
  stuckResent: number;
  stuckMarkedSent: number;
  requeued: number;
  /** Sending campaigns with deliveries never given a job and no fan-out running: a fan-out was started. */
  fanOutsRestarted: number;
  confirmationsQueued: number;
  /** Webhook events stored over a minute ago and still unprocessed; a processing job was queued for them. */
  unprocessedEvents: number;
  campaignsFinished: number;
};

/**
 * Makes Redis agree with Postgres again. Runs every minute and when a worker starts; every step is
 * idempotent, so overlapping runs on several workers do no harm.
 */
export async function reconcile(_payload: ReconcilePayload, ctx: JobContext, deps: WorkerDeps): Promise<ReconcileReport> {
  const { db, queues } = deps;
  const report: ReconcileReport = {
    scheduledStarted: await startDueCampaigns(deps),
    ...(await recoverStuckDeliveries(deps)),
    requeued: 0,
    fanOutsRestarted: 0,
    confirmationsQueued: 0,
    unprocessedEvents: await queueUnprocessedEvents(deps),
    campaignsFinished: 0,
  };

  // The per-row checks below cost a Redis call per row, so they run only when Redis holds fewer
  // live jobs than Postgres has work waiting: after a flush or lost jobs, not on every minute of a
  // large send that is simply still going.
  const [unsent] = await db.$queryRaw<{ count: number }[]>`
    SELECT count(*)::int AS count FROM subscribers
    WHERE status = 'pending' AND confirmation_sent_at IS NULL AND coalesce(consent_at, created_at) > now() - interval '7 days'`;
  if ((unsent?.count ?? 0) > (await liveJobs(queues.confirmations))) {
    report.confirmationsQueued = await enqueueUnsentConfirmations(db, queues);
  }
  // The fan-out keeps only a window of send jobs in Redis: a queued delivery should have a job
  // only up to its campaign's `enqueued_through`. Beyond it the fan-out has yet to come, and the
  // one thing to check is that a fan-out is still running for the campaign.
  const sending = await db.$queryRaw<{ id: string; enqueued_through: string | null; unreached: boolean }[]>`
    SELECT c.id, c.enqueued_through, EXISTS (
      SELECT 1 FROM deliveries d WHERE d.campaign_id = c.id AND d.status = 'queued'
        AND d.id > coalesce(c.enqueued_through, ${beforeEveryUuid}::uuid)) AS unreached
    FROM campaigns c WHERE c.status = 'sending'`;
  const [queued] = await db.$queryRaw<{ count: number }[]>`
    SELECT count(*)::int AS count FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id
    WHERE c.status = 'sending' AND d.status = 'queued' AND d.id <= c.enqueued_through`;
  const checkOrphans = (queued?.count ?? 0) > (await liveJobs(queues.sends));
  const fanningOut = await campaignsFanningOut(queues.campaigns);
  for (const campaign of sending) {
    if (checkOrphans && campaign.enqueued_through) report.requeued += await requeueOrphans(deps, campaign.id, campaign.enqueued_through);
    if (campaign.unreached && !fanningOut.has(campaign.id)) {
      // A restart is a fan-out of its own, keyed by this run; none is running for the campaign.
      const after = campaign.enqueued_through ?? undefined;
      await enqueueJob(queues, jobs.fanOut, after ? { campaignId: campaign.id, after } : { campaignId: campaign.id }, new Date());
      report.fanOutsRestarted += 1;
    }
    if (await finishCampaignIfDone(db, campaign.id)) report.campaignsFinished += 1;
  }
  for (const [kind, count] of Object.entries(report)) {
    if (typeof count === 'number') deps.metrics.reconcilerRepairs.inc({ kind }, count);
  }
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
  const due = await db.$queryRaw<{ id: string }[]>`
    SELECT id FROM campaigns WHERE status = 'scheduled' AND send_at <= now() ORDER BY send_at`;
  let started = 0;
  for (const { id } of due) {
    const recipients = await startScheduledCampaign(db, id);
    if (recipients === null) continue;
    started += 1;
    if (recipients === 0) continue;
    // The fan-out is keyed by the moment the campaign started (its updatedAt then).
    const campaign = await db.campaign.findUnique({ where: { id }, select: { updatedAt: true } });
    if (campaign) await enqueueJob(queues, jobs.fanOut, { campaignId: id }, campaign.updatedAt);
  }
  return started;
}

/**
 * The backstop for deliveries left in `sending` by a worker that died mid-call, for what BullMQ's
 * stalled-job re-run did not recover first (see send-email.ts): SendGrid may or may not have
 * accepted the message. If a webhook event for the delivery arrived, it did: mark it
 * `sent`. Otherwise send it again (the row goes back to `queued` in a new round), accepting a
 * possible duplicate over a silently missed subscriber. Workers that shut down gracefully finish
 * their calls first, so this only follows crashes.
 */
async function recoverStuckDeliveries({ db, config }: WorkerDeps): Promise<{ stuckResent: number; stuckMarkedSent: number }> {
  const staleBefore = new Date(Date.now() - config.stuckSendingAfterMs);
  // Only campaigns that can have deliveries in flight are looked at, each through the
  // (campaign_id, status, id) index: a finished campaign never has one.
  const stuckMarkedSent = await db.$executeRaw`
    UPDATE deliveries d SET status = 'sent', updated_at = now(),
      sent_at = (SELECT min(e.occurred_at) FROM email_events e WHERE e.delivery_id = d.id),
      last_error = 'worker stopped after SendGrid accepted the message'
    FROM campaigns c
    WHERE c.status IN ('sending', 'paused', 'cancelled') AND d.campaign_id = c.id
      AND d.status = 'sending' AND d.claimed_at < ${staleBefore}
      AND EXISTS (SELECT 1 FROM email_events e WHERE e.delivery_id = d.id)`;
  // A cancelled campaign sends nothing more, so its stuck rows are cancelled rather than re-queued.
  const stuckResent = await db.$executeRaw`
    UPDATE deliveries d
    SET status = CASE WHEN c.status = 'cancelled' THEN 'cancelled'::delivery_status ELSE 'queued'::delivery_status END,
      claimed_at = NULL, claim_token = NULL, round = d.round + 1, updated_at = now(),
      last_error = 'worker stopped during the SendGrid call; sending again'
    FROM campaigns c
    WHERE c.status IN ('sending', 'paused', 'cancelled') AND d.campaign_id = c.id
      AND d.status = 'sending' AND d.claimed_at < ${staleBefore}`;
  return { stuckResent, stuckMarkedSent };
}

/**
 * Re-enqueues queued deliveries of a sending campaign, up to `through` (where the fan-out got to),
 * whose job Redis no longer holds (Redis restarted empty, a deploy dropped jobs) or whose job
 * finished without sending. The second case gets a new round, since BullMQ would ignore an add
 * under the id of a finished job it still remembers.
 */
async function requeueOrphans({ db, queues, config }: WorkerDeps, campaignId: string, through: string): Promise<number> {
  const queued = keysetPages(
    (after, limit) => db.$queryRaw<QueuedDelivery[]>`
      SELECT id, round FROM deliveries
      WHERE campaign_id = ${campaignId}::uuid AND status = 'queued' AND id > ${after}::uuid AND id <= ${through}::uuid
      ORDER BY id LIMIT ${limit}`,
    { pageSize },
  );
  let requeued = 0;
  for await (const page of queued) {
    const orphans = await findOrphans(queues.sends, page);
    const finished = orphans.filter((orphan) => orphan.finished).map((orphan) => orphan.id);
    if (finished.length > 0) {
      await db.$executeRaw`UPDATE deliveries SET round = round + 1 WHERE id = ANY(${finished}::uuid[]) AND status = 'queued'`;
    }
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

/**
 * Webhook events whose processing job never got into Redis (it was down when they arrived) or was
 * lost. The minute of grace leaves the webhook's own job time to run.
 */
async function queueUnprocessedEvents({ db, queues }: WorkerDeps): Promise<number> {
  const [row] = await db.$queryRaw<{ count: number }[]>`
    SELECT count(*)::int AS count FROM email_events
    WHERE processed_at IS NULL AND created_at < now() - interval '1 minute'`;
  const count = row?.count ?? 0;
  if (count > 0) await enqueueJob(queues, jobs.processEvents, {});
  return count;
}
