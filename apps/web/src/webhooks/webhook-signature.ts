import { createPublicKey, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

/** How far a signed timestamp may be from our clock: bounds how long a captured post can be replayed. */
export const signatureToleranceMs = 15 * 60 * 1000;

export type SignedRequest = { signature: string | undefined; timestamp: string | undefined };

export type SignatureProblem = 'missing_signature' | 'stale_timestamp' | 'invalid_signature';

/**
 * Reads SendGrid's Event Webhook verification key: base64 DER SubjectPublicKeyInfo, no PEM armour.
 * Throws on anything but a P-256 key, so a pasted-wrong key stops the app at boot.
 */
export function parseWebhookPublicKey(base64Der: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(base64Der.trim(), 'base64'), format: 'der', type: 'spki' });
  } catch (err) {
    throw new Error('SENDGRID_WEBHOOK_PUBLIC_KEY is not a base64 DER (SPKI) public key', { cause: err });
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error('SENDGRID_WEBHOOK_PUBLIC_KEY must be an ECDSA P-256 public key');
  }
  return key;
}

/**
 * What can be refused before the body is read: missing headers, or a timestamp outside the
 * tolerance. Returns undefined when the request may go on to signature verification.
 */
export function checkSignatureHeaders(signed: SignedRequest, now: number = Date.now()): SignatureProblem | undefined {
  if (!signed.signature || !signed.timestamp) return 'missing_signature';
  // SendGrid sends whole unix seconds; anything else cannot be one of its posts.
  if (!/^\d{1,12}$/.test(signed.timestamp)) return 'stale_timestamp';
  const skew = Math.abs(now - Number(signed.timestamp) * 1000);
  return skew > signatureToleranceMs ? 'stale_timestamp' : undefined;
}

/**
 * ECDSA P-256 over SHA-256(timestamp || body), the body exactly as received: re-serialised JSON
 * (SendGrid's ends in CRLF) would not verify. The signature is base64 of a DER-encoded ECDSA value.
 */
export function verifyWebhookSignature(key: KeyObject, signed: SignedRequest, body: Buffer): boolean {
  if (!signed.signature || !signed.timestamp) return false;
  try {
    return verify('sha256', Buffer.concat([Buffer.from(signed.timestamp), body]), key, Buffer.from(signed.signature, 'base64'));
  } catch {
    // OpenSSL throws on a signature that is not valid DER; that is a bad signature, not our error.
    return false;
  }
}
