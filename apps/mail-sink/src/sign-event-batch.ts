import { createPrivateKey, sign, type KeyObject } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Twilio-Email-Event-Webhook-Signature';
export const TIMESTAMP_HEADER = 'X-Twilio-Email-Event-Webhook-Timestamp';

/**
 * Reads the signing key as PEM or as base64 DER (PKCS#8, the form SendGrid's own public key takes
 * without armour); throws unless it is an ECDSA P-256 private key, since any other key would give
 * signatures Herald's verifier refuses.
 */
export function parseEventSigningKey(text: string): KeyObject {
  const trimmed = text.trim();
  let key: KeyObject;
  try {
    key = trimmed.startsWith('-----')
      ? createPrivateKey(trimmed)
      : createPrivateKey({ key: Buffer.from(trimmed, 'base64'), format: 'der', type: 'pkcs8' });
  } catch (err) {
    throw new Error('is not a PEM or base64 DER (PKCS#8) private key', { cause: err });
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error('must be an ECDSA P-256 private key');
  }
  return key;
}

/** The body SendGrid posts: the JSON array followed by CRLF. */
export function serializeEventBatch(events: readonly object[]): Buffer {
  return Buffer.from(`${JSON.stringify(events)}\r\n`);
}

/**
 * SendGrid's signature: ECDSA P-256 over SHA-256(timestamp || body), DER-encoded and base64, with
 * the timestamp in whole unix seconds.
 */
export function signEventBatch(key: KeyObject, body: Buffer, now: number = Date.now()): Record<string, string> {
  const timestamp = String(Math.floor(now / 1000));
  const signature = sign('sha256', Buffer.concat([Buffer.from(timestamp), body]), key).toString('base64');
  return { 'Content-Type': 'application/json', [SIGNATURE_HEADER]: signature, [TIMESTAMP_HEADER]: timestamp };
}
