import express from 'express';
import type { Router } from 'express';

/** One outbound webhook request Herald made to the sink, as received. */
export type CaughtWebhook = { receivedAt: string; id: string | null; timestamp: string | null; signature: string | null; body: string };

const keep = 500;

/**
 * A receiver for Herald's outbound webhooks in the development stack: register
 * `http://mail-sink:3100/api/webhooks` as an endpoint (compose sets WEBHOOK_ALLOW_PRIVATE so the
 * worker may reach it) and read what arrived at `GET /api/webhooks`, newest first. It keeps the
 * signature headers as sent, so the signature can be checked with the endpoint's secret.
 */
export function webhookCatcher(): Router {
  const caught: CaughtWebhook[] = [];
  const router = express.Router();
  router.post('/api/webhooks', express.text({ type: () => true, limit: '256kb' }), (req, res) => {
    caught.unshift({
      receivedAt: new Date().toISOString(),
      id: req.get('webhook-id') ?? null,
      timestamp: req.get('webhook-timestamp') ?? null,
      signature: req.get('webhook-signature') ?? null,
      body: typeof req.body === 'string' ? req.body : '',
    });
    caught.length = Math.min(caught.length, keep);
    res.status(200).json({ received: true });
  });
  router.get('/api/webhooks', (_req, res) => {
    res.json(caught);
  });
  router.delete('/api/webhooks', (_req, res) => {
    caught.length = 0;
    res.status(204).end();
  });
  return router;
}
