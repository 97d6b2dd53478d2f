import { createHmac } from 'node:crypto';

/**
 * The Standard Webhooks headers for one attempt: `webhook-id` (the event's id, the same on every
 * attempt, for the receiver's deduplication), `webhook-timestamp` (unix seconds of this attempt) and
 * `webhook-signature`: `v1,` + base64 HMAC-SHA256 of `id.timestamp.body`, keyed with the base64
 * part of the endpoint's `whsec_` secret. Receivers verify with the `standardwebhooks` or `svix`
 * libraries, or a few lines of their own (docs/webhooks.md).
 */
export function signWebhook(secret: string, id: string, body: string, now: Date): Record<string, string> {
  const timestamp = Math.floor(now.getTime() / 1000).toString();
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` };
}
