import { generateKeyPairSync, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

/** A key pair a test signs webhook posts with, playing SendGrid; Herald gets the public half. */
export function createWebhookKeys() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { privateKey, publicKey, publicKeyBase64: publicKeyBase64(publicKey) };
}

/** The form SENDGRID_WEBHOOK_PUBLIC_KEY takes: base64 DER SubjectPublicKeyInfo, no PEM armour. */
export function publicKeyBase64(key: KeyObject): string {
  return key.export({ format: 'der', type: 'spki' }).toString('base64');
}

/** A SendGrid body: the JSON array followed by CRLF, exactly as SendGrid posts it. */
export function webhookBody(events: unknown): string {
  return typeof events === 'string' ? events : `${JSON.stringify(events)}\r\n`;
}

/** The headers SendGrid sends: ECDSA over the timestamp followed by the raw body. */
export function signedWebhookHeaders(body: string, privateKey: KeyObject, timestamp = String(Math.floor(Date.now() / 1000))) {
  const signature = sign('sha256', Buffer.concat([Buffer.from(timestamp), Buffer.from(body)]), privateKey);
  return {
    'Content-Type': 'application/json',
    'X-Twilio-Email-Event-Webhook-Signature': signature.toString('base64'),
    'X-Twilio-Email-Event-Webhook-Timestamp': timestamp,
  };
}
