import express, { Router } from 'express';
import { enqueueJob, jobs } from '@herald/shared';
import type { Request, RequestHandler } from 'express';
import type { WebDeps } from '../deps.js';
import { HttpError } from '../http/http-error.js';
import { parseEventBatch } from '../webhooks/parse-event-batch.js';
import { enqueueOrDefer } from '../jobs/enqueue-or-defer.js';
import { storeEvents, storeMalformedEvents } from '../webhooks/store-events.js';
import { checkSignatureHeaders, parseWebhookPublicKey, verifyWebhookSignature } from '../webhooks/webhook-signature.js';
import type { SignatureProblem, SignedRequest } from '../webhooks/webhook-signature.js';

const signatureMessages: Record<SignatureProblem, string> = {
  missing_signature: 'The Event Webhook signature headers are missing.',
  stale_timestamp: 'The signed timestamp is too far from the current time.',
  invalid_signature: 'The Event Webhook signature does not match the body.',
};

/** What the webhook reports beyond the HTTP metrics. */
export type WebhookMetrics = { malformedEvents: { inc(count: number): void } };

/**
 * `POST /webhooks/sendgrid`: SendGrid's signed Event Webhook. Events are verified, stored once
 * each and answered at once; a worker applies them (suppressing bounced and complaining
 * addresses). SendGrid retries any non-2xx for a day and then gives the batch up, so only a body
 * that is not a batch at all gets one: a malformed event inside a signed batch is logged, counted
 * and kept raw, and the rest of the batch is stored.
 *
 * Mounted before any body parser: the signature covers the body exactly as received.
 */
export function webhookRoutes({ db, queues, logger, config }: WebDeps, metrics: WebhookMetrics): Router {
  const router = Router();
  // Parsed here, when the app is built, so a malformed key stops the process at boot.
  const key = config.webhook.publicKey ? parseWebhookPublicKey(config.webhook.publicKey) : undefined;
  if (!key && config.webhook.allowUnsigned) {
    logger.warn('SendGrid webhook accepts unsigned events: anyone can bounce or unsubscribe any address');
  }

  const signedRequest = (req: Request): SignedRequest => ({
    signature: req.get('x-twilio-email-event-webhook-signature'),
    timestamp: req.get('x-twilio-email-event-webhook-timestamp'),
  });

  /** Refuses what can be refused before reading up to 5 MB of body. */
  const checkHeaders: RequestHandler = (req, _res, next) => {
    if (!key) {
      if (config.webhook.allowUnsigned) return next();
      throw new HttpError(503, 'webhook_not_configured', 'Set SENDGRID_WEBHOOK_PUBLIC_KEY to receive SendGrid events.');
    }
    const problem = checkSignatureHeaders(signedRequest(req));
    if (problem) throw new HttpError(403, problem, signatureMessages[problem]);
    next();
  };

  router.post(
    '/webhooks/sendgrid',
    checkHeaders,
    express.raw({ type: '*/*', limit: '5mb' }),
    async (req, res) => {
      // No body at all leaves req.body unset; it is then verified and parsed as empty.
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      if (key && !verifyWebhookSignature(key, signedRequest(req), body)) {
        throw new HttpError(403, 'invalid_signature', signatureMessages.invalid_signature);
      }
      const batch = parseEventBatch(body);
      if (!batch.ok) throw new HttpError(400, batch.code, batch.message);

      const stored = await storeEvents(db, batch.events);
      if (batch.malformed.length > 0) {
        await storeMalformedEvents(db, batch.malformed);
        metrics.malformedEvents.inc(batch.malformed.length);
        // Field paths and positions only: the events themselves carry addresses.
        const examples = batch.malformed.slice(0, 5).map(({ index, problems }) => ({ index, problems }));
        req.log.warn({ malformed: batch.malformed.length, received: body.length, examples }, 'webhook events malformed');
      }
      // A replayed batch stored nothing, so there is nothing new to apply.
      if (stored > 0) await enqueueOrDefer('event processing', () => enqueueJob(queues, jobs.processEvents, {}), req.log);
      res.json({ received: batch.events.length + batch.malformed.length, stored, malformed: batch.malformed.length });
    },
  );
  return router;
}
