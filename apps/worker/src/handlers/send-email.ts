import { UnrecoverableError, Worker } from 'bullmq';
import type { SendEmailPayload } from '@herald/shared';
import { finishCampaignIfDone, issueUrl, pauseCampaign } from '@herald/shared';
import { loadCampaignContent } from '../campaigns/campaign-content.js';
import { renderCampaignEmail } from '@herald/shared';
import { decideOnFailure } from '../mail/failure-policy.js';
import type { JobContext, WorkerDeps } from '../deps.js';

export type SendOutcome = 'sent' | 'skipped' | 'paused';

type Claimed = {
  id: string;
  campaign_id: string;
  email: string;
  name: string | null;
  unsubscribe_token: string;
  taken_over: boolean;
};

const takenOverNote = 'worker stopped during the SendGrid call; sent again by the re-run of its job';

/**
 * Sends one delivery, at most once.
 *
 * Delivery guarantee. The conditional claim below (`queued -> sending`) is the lock: of any number of
 * jobs for the same delivery, exactly one gets the row, and a delivery that is `sent`, `failed`,
 * `cancelled` or `skipped` is never claimed again. The only window for a duplicate is a worker dying
 * after SendGrid accepted the message and before the `sent` mark below, one HTTP call wide. Such a
 * row stays `sending`, and is sent again: a possible duplicate, bounded by the sends that were in
 * flight when the worker died, is preferred to a silently skipped subscriber. Two paths get it out:
 * - BullMQ notices the dead worker's job when its lock expires (about 30 s) and runs the same
 *   attempt again. The claim records `ctx.claimToken` (job id and attempt), and only that re-run
 *   carries the same token, so a `sending` row with our own token is a claim its holder abandoned:
 *   it is taken over here and sent again.
 * - Anything BullMQ cannot see (the job is gone with Redis's data, or stalled too often) is left to
 *   the reconciler's backstop after STUCK_SENDING_AFTER_SECONDS, which marks the row `sent` if a
 *   webhook event shows SendGrid accepted it, and otherwise sends it again (see reconcile.ts).
 */
export async function sendEmail(payload: SendEmailPayload, ctx: JobContext, deps: WorkerDeps): Promise<SendOutcome> {
  const { db, mailer, config } = deps;
  // SET expressions see the row as it was, so `taken_over` says whether this run found its own
  // abandoned claim rather than a queued row.
  const [claimed] = await db.$queryRaw<Claimed[]>`
    UPDATE deliveries d
    SET status = 'sending', claimed_at = now(), claim_token = ${ctx.claimToken}, attempts = d.attempts + 1, updated_at = now(),
      last_error = CASE WHEN d.status = 'sending' THEN ${takenOverNote} ELSE d.last_error END
    FROM campaigns c, subscribers s
    WHERE d.id = ${payload.deliveryId}::uuid
      AND (d.status = 'queued' OR (d.status = 'sending' AND d.claim_token = ${ctx.claimToken}))
      AND c.id = d.campaign_id AND c.status = 'sending'
      AND s.id = d.subscriber_id AND s.status = 'active'
    RETURNING d.id, d.campaign_id, s.email, s.name, s.unsubscribe_token, d.last_error IS NOT DISTINCT FROM ${takenOverNote} AS taken_over`;
  if (!claimed) return skipUnclaimable(payload.deliveryId, ctx, deps);
  if (claimed.taken_over) ctx.log.warn('taking over a claim abandoned by a stopped worker; sending again');

  const viewInBrowserUrl = issueUrl(config.publicUrl, claimed.campaign_id);
  const content = await loadCampaignContent(db, claimed.campaign_id, deps.emailLayout, { viewInBrowserUrl });
  const email = renderCampaignEmail(content, claimed, {
    unsubscribeUrl: `${config.publicUrl}/unsubscribe/${claimed.unsubscribe_token}`,
    postalAddress: config.mail.postalAddress,
    viewInBrowserUrl,
  });

  let messageId: string | null;
  try {
    ({ messageId } = await mailer.send({
      ...email,
      to: claimed.name ? { email: claimed.email, name: claimed.name } : { email: claimed.email },
      customArgs: { herald_delivery_id: claimed.id },
    }));
  } catch (err) {
    return handleFailure(err, claimed, ctx, deps);
  }

  // SendGrid has the message: losing this mark would send it again later, so it is retried through
  // a short database outage instead of failing the job at once.
  await persistently(ctx, () => db.$executeRaw`
    UPDATE deliveries SET status = 'sent', sent_at = now(), provider_message_id = ${messageId}, last_error = NULL,
      claim_token = NULL, updated_at = now()
    WHERE id = ${claimed.id}::uuid AND status = 'sending'`);
  deps.finisher.touch(claimed.campaign_id);
  return 'sent';
}

const markRetryForMs = 60_000;

/** Runs `write` until it succeeds, waiting up to a second between tries, for at most a minute. */
async function persistently<T>(ctx: JobContext, write: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + markRetryForMs;
  for (let wait = 100; ; wait = Math.min(wait * 2, 1_000)) {
    try {
      return await write();
    } catch (err) {
      if (Date.now() + wait > deadline) throw err;
      ctx.log.warn({ err: (err as Error).message, retryInMs: wait }, 'could not record the send; retrying');
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/**
 * The claim found nothing to send. A delivery whose subscriber left (unsubscribed, bounced,
 * complained, erased) becomes `skipped`; one whose campaign is paused stays `queued` for resume;
 * one already finished, or claimed by another job, is left alone.
 */
async function skipUnclaimable(deliveryId: string, ctx: JobContext, { db, metrics }: WorkerDeps): Promise<SendOutcome> {
  const skipped = await db.$queryRaw<{ campaign_id: string }[]>`
    UPDATE deliveries d SET status = 'skipped', last_error = 'subscriber is no longer active', updated_at = now()
    FROM campaigns c
    WHERE d.id = ${deliveryId}::uuid AND d.status = 'queued' AND c.id = d.campaign_id AND c.status = 'sending'
      AND NOT EXISTS (SELECT 1 FROM subscribers s WHERE s.id = d.subscriber_id AND s.status = 'active')
    RETURNING d.campaign_id`;
  const campaignId = skipped[0]?.campaign_id;
  if (campaignId) await finishCampaignIfDone(db, campaignId);
  else metrics.claimsLost.inc();
  ctx.log.debug({ reason: campaignId ? 'subscriber inactive' : 'not claimable' }, 'delivery skipped');
  return 'skipped';
}

async function handleFailure(err: unknown, claimed: Claimed, ctx: JobContext, deps: WorkerDeps): Promise<SendOutcome> {
  const { db } = deps;
  const decision = decideOnFailure(err, ctx);
  ctx.log.warn({ action: decision.action, reason: decision.reason }, 'send failed');
  // In a campaign cancelled meanwhile, the requeue trigger makes the row `cancelled` instead.
  const release = (lastError: string, attemptsDelta = 0) =>
    db.$executeRaw`
      UPDATE deliveries SET status = 'queued', claimed_at = NULL, claim_token = NULL, last_error = ${lastError},
        attempts = attempts + ${attemptsDelta}, updated_at = now()
      WHERE id = ${claimed.id}::uuid AND status = 'sending'`;

  switch (decision.action) {
    case 'hold-queue':
      // A 429 is SendGrid asking everyone to wait; it does not count against this delivery.
      await release(decision.reason, -1);
      await ctx.pauseQueue(decision.waitMs);
      throw Worker.RateLimitError();
    case 'stop':
      // Every other send of this campaign would fail the same way: stop it and tell the admin.
      await release(decision.reason);
      await pauseCampaign(db, claimed.campaign_id, `Paused: SendGrid refused the request. ${decision.reason}`);
      return 'paused';
    case 'give-up':
      await db.$executeRaw`
        UPDATE deliveries SET status = 'failed', last_error = ${decision.reason}, updated_at = now()
        WHERE id = ${claimed.id}::uuid AND status = 'sending'`;
      await finishCampaignIfDone(db, claimed.campaign_id);
      throw new UnrecoverableError(decision.reason);
    case 'retry':
      await release(decision.reason);
      throw new Error(decision.reason, { cause: err });
  }
}
