import type { DeliverWebhookPayload } from '@herald/shared';
import type { JobContext, WorkerDeps } from '../deps.js';
import { postWebhook } from '../webhooks/post-webhook.js';
import { judgeOutcome, retryDelayMs } from '../webhooks/retry-schedule.js';
import { signWebhook } from '../webhooks/sign-webhook.js';
import { webhookBody } from '../webhooks/webhook-body.js';
import { claimDelivery, recordAttempt } from '../webhooks/webhook-deliveries.js';
import type { AttemptRecord } from '../webhooks/webhook-deliveries.js';

export type WebhookAttemptResult = 'not_claimed' | AttemptRecord['result']['status'];

/**
 * One attempt at delivering one event to one endpoint.
 *
 * Delivery guarantee: at least once. The attempt is claimed in Postgres (attempt number, due time,
 * a lock), so of any number of jobs for it one POSTs. A worker that dies between the endpoint's
 * answer and the record of it leaves the lock to expire (WEBHOOK_TIMEOUT_MS + 30 s), and the
 * attempt is made again: the receiver then sees the same `webhook-id` twice. Postgres holds every
 * delivery not yet delivered, so a Redis outage or a lost job delays it, never drops it.
 */
export async function deliverWebhook(payload: DeliverWebhookPayload, ctx: JobContext, deps: WorkerDeps): Promise<WebhookAttemptResult> {
  const { db, config } = deps;
  const { webhooks } = config;
  const delivery = await claimDelivery(db, payload.deliveryId, payload.attempts, webhooks.timeoutMs + 30_000);
  if (!delivery) return 'not_claimed';

  const attemptedAt = new Date();
  const body = webhookBody(delivery.event);
  const headers = signWebhook(delivery.secret, delivery.event.id, body, attemptedAt);
  const outcome = await postWebhook(delivery.url, body, headers, { timeoutMs: webhooks.timeoutMs, allowPrivate: webhooks.allowPrivate });
  const judged = judgeOutcome(outcome);
  const attemptsMade = delivery.attempts + 1;
  const result: AttemptRecord['result'] =
    judged === 'retry' && attemptsMade < webhooks.maxAttempts
      ? { status: 'pending', retryAt: new Date(attemptedAt.getTime() + retryDelayMs(attemptsMade, webhooks.retryBaseMs, outcome.answered ? outcome.retryAfter : undefined, attemptedAt)) }
      : { status: judged === 'delivered' ? 'delivered' : 'failed' };
  const { disabled } = await recordAttempt(
    db,
    delivery,
    {
      attemptedAt,
      durationMs: outcome.durationMs,
      statusCode: outcome.answered ? outcome.statusCode : null,
      error: outcome.answered ? null : outcome.error,
      excerpt: outcome.answered ? outcome.excerpt : null,
      result,
    },
    { disableAfterMs: webhooks.disableAfterMs },
  );
  const logFields = { deliveryId: delivery.id, endpointId: delivery.endpointId, attempt: attemptsMade, status: outcome.answered ? outcome.statusCode : outcome.error };
  if (result.status === 'delivered') ctx.log.debug(logFields, 'webhook delivered');
  else ctx.log.info({ ...logFields, next: result.status === 'pending' ? result.retryAt : null }, 'webhook attempt failed');
  if (disabled) ctx.log.warn({ endpointId: delivery.endpointId }, 'webhook endpoint disabled after a run of failures');
  return result.status;
}
