import { UnrecoverableError, Worker } from 'bullmq';
import type { Logger, SendEmailPayload } from '@herald/shared';
import { campaignUnsubscribeUrl, issueUrl, pauseCampaign, preferencesUrl, renderCampaignBatch, renderCampaignEmail } from '@herald/shared';
import { loadCampaignContent } from '../campaigns/campaign-content.js';
import type { SendableCampaign } from '../campaigns/campaign-content.js';
import { collectBatches } from '../deliveries/collect-batches.js';
import type { ClaimedDelivery } from '../deliveries/delivery-statements.js';
import { claimDeliveries, countAttempt, failDeliveries, markSent, readRecipientAttributes, releaseDeliveries, skipInactive } from '../deliveries/delivery-statements.js';
import { decideOnFailure } from '../mail/failure-policy.js';
import { classifySendError, refusedPersonalizations } from '../mail/sendgrid.js';
import type { JobContext, WorkerDeps } from '../deps.js';

export type SendOutcome = 'sent' | 'skipped' | 'paused';

/** One send job waiting for its batch. */
type SendRequest = { deliveryId: string; ctx: JobContext };
/** `attributes`: the keys of the subscriber's attributes the campaign uses, when it uses any. */
type Claim = { request: SendRequest; row: ClaimedDelivery; attributes?: Record<string, unknown> };
type Answer = SendOutcome | Error;

/**
 * Sends one delivery, at most once, in a batch with the other send jobs this worker is running.
 *
 * Batching. The jobs that arrive within `batchWaitMs` of each other are claimed by one statement,
 * grouped by campaign, and sent SEND_BATCH_SIZE recipients per SendGrid request (one personalization
 * each), then marked `sent` by one statement for the marks due in the same turn of the event loop;
 * each job still ends with its own recipient's outcome. SEND_BATCH_SIZE=1 sends one request per
 * recipient, and its claims wait for no timer either (see claimWaitMs).
 *
 * Delivery guarantee. The conditional claim (`queued -> sending`) is the lock: of any number of
 * jobs for the same delivery, exactly one gets the row, and a delivery that is `sent`, `failed`,
 * `cancelled` or `skipped` is never claimed again. The only window for a duplicate is a worker dying
 * after SendGrid accepted a request and before its `sent` mark, one HTTP call wide. Such rows stay
 * `sending`, and are sent again: possible duplicates, bounded by the recipients of the requests in
 * flight when the worker died (at most WORKER_CONCURRENCY), are preferred to silently skipped
 * subscribers. Two paths get them out:
 * - BullMQ notices the dead worker's job when its lock expires (within 30-60 s) and runs the same
 *   attempt again. The claim records `ctx.claimToken` (job id and attempt), and only that re-run
 *   carries the same token, so a `sending` row with our own token is a claim its holder abandoned:
 *   it is taken over here and sent again.
 * - Anything BullMQ cannot see (the job is gone with Redis's data, or stalled too often) is left to
 *   the reconciler's backstop after STUCK_SENDING_AFTER_SECONDS, which marks the row `sent` if a
 *   webhook event shows SendGrid accepted it, and otherwise sends it again (see reconcile.ts).
 */
export function sendEmail(payload: SendEmailPayload, ctx: JobContext, deps: WorkerDeps): Promise<SendOutcome> {
  return batchesOf(deps).send({ deliveryId: payload.deliveryId, ctx });
}

/** Long enough to gather the jobs a worker fetches back to back, short next to a SendGrid call. */
const batchWaitMs = 5;

/**
 * With one request per recipient there is no request to fill, so a claim takes the jobs that arrived
 * in the same turn of the event loop and waits for no others. A fixed wait held every job back for
 * it: at WORKER_CONCURRENCY=20 and 100 ms provider latency, 16 of 20 jobs were at SendGrid on
 * average with the 5 ms wait and 18 without it.
 */
function claimWaitMs(config: WorkerDeps['config']): number {
  return config.sendBatchSize > 1 ? batchWaitMs : 0;
}
/** SendGrid's own limit of personalizations per request, and the most rows one claim takes. */
export const maxBatchSize = 1_000;

type Collectors = {
  send(request: SendRequest): Promise<SendOutcome>;
  /** Resolves once the row is marked `sent`, in one statement with the other marks due in the same turn. */
  markSent(sent: { id: string; messageId: string | null }): Promise<void>;
};

/** One set of batch collectors per worker (per set of dependencies), made on its first send. */
const collectors = new WeakMap<WorkerDeps, Collectors>();

function batchesOf(deps: WorkerDeps): Collectors {
  let batches = collectors.get(deps);
  if (!batches) {
    batches = {
      send: collectBatches<SendRequest, SendOutcome>((requests) => sendBatch(requests, deps), {
        waitMs: claimWaitMs(deps.config),
        maxSize: maxBatchSize,
      }),
      // SendGrid has the messages: losing a mark would send them again later, so it is retried through
      // a short database outage instead of failing the jobs at once.
      markSent: collectBatches<{ id: string; messageId: string | null }, void>(
        async (sent) => {
          await persistently(deps.logger, () => markSent(deps.pool, [...sent]));
          return sent.map(() => undefined);
        },
        { waitMs: 0, maxSize: maxBatchSize },
      ),
    };
    collectors.set(deps, batches);
  }
  return batches;
}

/** Claims the batch's rows in one statement, then sends each campaign's claimed rows. */
async function sendBatch(requests: readonly SendRequest[], deps: WorkerDeps): Promise<Answer[]> {
  const answers = new Map<SendRequest, Answer>();
  // One claim per delivery: a second job for a row already in the batch loses, as it would to another worker.
  const unique = new Map<string, SendRequest>();
  for (const request of requests) {
    if (unique.has(request.deliveryId)) {
      deps.metrics.claimsLost.inc();
      answers.set(request, 'skipped');
    } else {
      unique.set(request.deliveryId, request);
    }
  }

  let rows: ClaimedDelivery[];
  try {
    rows = await claimDeliveries(deps.pool, [...unique.values()].map(({ deliveryId, ctx }) => ({ id: deliveryId, claimToken: ctx.claimToken })));
  } catch (err) {
    return requests.map((request) => answers.get(request) ?? asError(err));
  }

  const claimed = new Map(rows.map((row) => [row.id, row]));
  const byCampaign = new Map<string, Claim[]>();
  const unclaimed: SendRequest[] = [];
  for (const request of unique.values()) {
    const row = claimed.get(request.deliveryId);
    if (!row) {
      unclaimed.push(request);
      continue;
    }
    if (row.taken_over) request.ctx.log.warn('taking over a claim abandoned by a stopped worker; sending again');
    const claims = byCampaign.get(row.campaign_id) ?? [];
    claims.push({ request, row });
    byCampaign.set(row.campaign_id, claims);
  }
  const work: Promise<void>[] = [];
  if (unclaimed.length > 0) work.push(answer(answers, unclaimed, () => skipUnclaimable(unclaimed, deps)));
  for (const [campaignId, claims] of byCampaign) {
    work.push(answer(answers, claims.map((claim) => claim.request), () => sendCampaign(campaignId, claims, deps)));
  }
  await Promise.all(work);
  return requests.map((request) => answers.get(request) ?? new Error('send job left without an outcome'));
}

/** Records `run`'s answers for `requests`, or its error as every one's answer. */
async function answer(answers: Map<SendRequest, Answer>, requests: SendRequest[], run: () => Promise<Answer[]>): Promise<void> {
  try {
    const results = await run();
    requests.forEach((request, index) => answers.set(request, results[index]!));
  } catch (err) {
    for (const request of requests) answers.set(request, asError(err));
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** The campaign's content, laid out once per worker, then one request per SEND_BATCH_SIZE recipients. */
async function sendCampaign(campaignId: string, claims: Claim[], deps: WorkerDeps): Promise<Answer[]> {
  const viewInBrowserUrl = issueUrl(deps.config.publicUrl, campaignId);
  const content = await loadCampaignContent(deps.db, campaignId, deps.emailLayout, { viewInBrowserUrl, publicUrl: deps.config.publicUrl });
  if (content.attributeKeys && content.attributeKeys.length > 0) {
    const attributes = await readRecipientAttributes(deps.pool, claims.map((claim) => claim.row.id), content.attributeKeys);
    for (const claim of claims) claim.attributes = attributes.get(claim.row.id) ?? {};
  }
  const size = deps.config.sendBatchSize;
  const requests: Promise<Answer[]>[] = [];
  for (let start = 0; start < claims.length; start += size) {
    requests.push(deliver(claims.slice(start, start + size), { campaignId, content, viewInBrowserUrl }, deps));
  }
  return (await Promise.all(requests)).flat();
}

type Campaign = { campaignId: string; content: SendableCampaign; viewInBrowserUrl: string };

/** One SendGrid request for `claims`, and what it means for each of them. */
async function deliver(claims: Claim[], campaign: Campaign, deps: WorkerDeps): Promise<Answer[]> {
  const { mailer, config } = deps;
  const links = { postalAddress: config.mail.postalAddress, viewInBrowserUrl: campaign.viewInBrowserUrl };
  // The campaign's own unsubscribe link: it leaves the lists this campaign went to.
  const unsubscribeUrlOf = (row: ClaimedDelivery) => campaignUnsubscribeUrl(config.publicUrl, row.unsubscribe_token, campaign.campaignId);
  const preferencesUrlOf = (row: ClaimedDelivery) => preferencesUrl(config.publicUrl, row.unsubscribe_token);
  const recipient = (row: ClaimedDelivery) => (row.name ? { email: row.email, name: row.name } : { email: row.email });
  const customArgs = (row: ClaimedDelivery) => ({ herald_delivery_id: row.id });

  let messageId: string | null;
  try {
    if (claims.length === 1) {
      const { row, attributes } = claims[0]!;
      const email = renderCampaignEmail(campaign.content, { ...row, attributes }, { ...links, unsubscribeUrl: unsubscribeUrlOf(row), preferencesUrl: preferencesUrlOf(row) });
      ({ messageId } = await mailer.send({ ...email, to: recipient(row), customArgs: customArgs(row), tracking: campaign.content.tracking }));
    } else {
      const rows = claims.map((claim) => claim.row);
      const batch = renderCampaignBatch(
        campaign.content,
        claims.map(({ row, attributes }) => ({ ...row, attributes, unsubscribeUrl: unsubscribeUrlOf(row), preferencesUrl: preferencesUrlOf(row) })),
        links,
      );
      ({ messageId } = await mailer.sendBatch({
        ...batch,
        // Tracking is a setting of the message, not of a personalization: all recipients share it.
        tracking: campaign.content.tracking,
        personalizations: batch.personalizations.map((personalization, index) => ({
          ...personalization,
          to: recipient(rows[index]!),
          customArgs: customArgs(rows[index]!),
        })),
      }));
    }
  } catch (err) {
    if (claims.length > 1 && classifySendError(err).kind === 'rejected') return splitRefused(err, claims, campaign, deps);
    return handleFailure(err, claims, campaign.campaignId, deps);
  }

  const { markSent: mark } = batchesOf(deps);
  await Promise.all(claims.map((claim) => mark({ id: claim.row.id, messageId })));
  deps.finisher.touch(campaign.campaignId);
  return claims.map(() => 'sent');
}

/**
 * SendGrid refused a whole batch for something in it (an address it does not take, say). The
 * recipients its answer names fail and the rest are sent again together; when it names none, each
 * half is sent on its own, so one bad recipient costs about log2(batch) extra requests.
 */
async function splitRefused(err: unknown, claims: Claim[], campaign: Campaign, deps: WorkerDeps): Promise<Answer[]> {
  const named = new Set(refusedPersonalizations(err).filter((index) => index < claims.length));
  if (named.size > 0) {
    const refused = claims.filter((_, index) => named.has(index));
    const rest = claims.filter((_, index) => !named.has(index));
    const [refusedAnswers, restAnswers] = await Promise.all([
      handleFailure(err, refused, campaign.campaignId, deps),
      rest.length > 0 ? deliverAgain(rest, campaign, deps) : Promise.resolve([]),
    ]);
    const answers = new Map<Claim, Answer>();
    refused.forEach((claim, index) => answers.set(claim, refusedAnswers[index]!));
    rest.forEach((claim, index) => answers.set(claim, restAnswers[index]!));
    return claims.map((claim) => answers.get(claim)!);
  }
  const half = Math.ceil(claims.length / 2);
  const answers = await Promise.all([deliverAgain(claims.slice(0, half), campaign, deps), deliverAgain(claims.slice(half), campaign, deps)]);
  return answers.flat();
}

/** Another request for rows this batch already holds, counted as an attempt of each. */
async function deliverAgain(claims: Claim[], campaign: Campaign, deps: WorkerDeps): Promise<Answer[]> {
  await countAttempt(deps.db, claims.map((claim) => claim.row.id));
  return deliver(claims, campaign, deps);
}

const markRetryForMs = 60_000;

/** Runs `write` until it succeeds, waiting up to a second between tries, for at most a minute. */
async function persistently<T>(log: Logger, write: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + markRetryForMs;
  for (let wait = 100; ; wait = Math.min(wait * 2, 1_000)) {
    try {
      return await write();
    } catch (err) {
      if (Date.now() + wait > deadline) throw err;
      log.warn({ err: (err as Error).message, retryInMs: wait }, 'could not record the send; retrying');
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/**
 * The claim found nothing to send for these. A delivery whose subscriber left becomes `skipped`
 * (one statement for all of them; the campaign-done check goes to the finisher, as after a send); one whose campaign is paused
 * stays `queued` for resume; one already finished, or claimed by another job, is left alone.
 */
async function skipUnclaimable(requests: SendRequest[], { db, metrics, finisher }: WorkerDeps): Promise<SendOutcome[]> {
  const skipped = await skipInactive(db, requests.map((request) => request.deliveryId));
  for (const row of skipped) finisher.touch(row.campaign_id);
  const inactive = new Set(skipped.map((row) => row.id));
  for (const { deliveryId, ctx } of requests) {
    const subscriberLeft = inactive.has(deliveryId);
    if (!subscriberLeft) metrics.claimsLost.inc();
    ctx.log.debug({ reason: subscriberLeft ? 'subscriber inactive' : 'not claimable' }, 'delivery skipped');
  }
  return requests.map(() => 'skipped');
}

/** Carries out the failure policy's decision for every recipient of a failed request. */
async function handleFailure(err: unknown, claims: Claim[], campaignId: string, deps: WorkerDeps): Promise<Answer[]> {
  const { db } = deps;
  const ids = claims.map((claim) => claim.row.id);
  const decisions = claims.map((claim) => decideOnFailure(err, claim.request.ctx));
  const first = decisions[0]!;
  const log = claims.length === 1 ? claims[0]!.request.ctx.log : deps.logger.child({ campaignId, recipients: claims.length });
  log.warn({ action: first.action, reason: first.reason }, 'send failed');

  switch (first.action) {
    case 'hold-queue':
      // A 429 is SendGrid asking everyone to wait; it does not count against these deliveries.
      await releaseDeliveries(db, ids, first.reason, -1);
      await claims[0]!.request.ctx.pauseQueue(first.waitMs);
      return claims.map(() => Worker.RateLimitError());
    case 'stop':
      // Every other send of this campaign would fail the same way: stop it and tell the admin.
      await releaseDeliveries(db, ids, first.reason);
      await pauseCampaign(db, campaignId, `Paused: SendGrid refused the request. ${first.reason}`);
      return claims.map(() => 'paused');
    default: {
      // Retry or give up depends on each job's own attempts.
      const givingUp = claims.flatMap((claim, index) => (decisions[index]!.action === 'give-up' ? [{ id: claim.row.id, reason: decisions[index]!.reason }] : []));
      const retrying = claims.flatMap((claim, index) => (decisions[index]!.action === 'retry' ? [claim.row.id] : []));
      if (retrying.length > 0) await releaseDeliveries(db, retrying, first.reason);
      if (givingUp.length > 0) {
        await failDeliveries(db, givingUp);
        deps.finisher.touch(campaignId);
      }
      return decisions.map((decision) =>
        decision.action === 'give-up' ? new UnrecoverableError(decision.reason) : new Error(decision.reason, { cause: err }),
      );
    }
  }
}
