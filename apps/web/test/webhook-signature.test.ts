import { describe, expect, it } from 'vitest';
import { parseWebhookPublicKey, verifyWebhookSignature } from '../src/webhooks/webhook-signature.js';

/**
 * The test vectors of @sendgrid/eventwebhook (sendgrid/sendgrid-nodejs,
 * packages/eventwebhook/src/eventwebhook.spec.js): Herald's check must agree with SendGrid's own.
 */
const PUBLIC_KEY = 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA==';
const OTHER_KEY = 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqTxd43gyp8IOEto2LdIfjRQrIbsd4SXZkLW6jDutdhXSJCWHw8REntlo7aNDthvj+y7GjUuFDb/R1NGe1OPzpA==';
const SIGNATURE = 'MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2j/0=';
const BAD_SIGNATURE = 'MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH3j/0=';
const TIMESTAMP = '1588788367';
const PAYLOAD = JSON.stringify({ category: 'example_payload', event: 'test_event', message_id: 'message_id' });

const verify = (key: string, payload: string, signature: string, timestamp: string) =>
  verifyWebhookSignature(parseWebhookPublicKey(key), { signature, timestamp }, Buffer.from(payload));

describe("webhook signature against @sendgrid/eventwebhook's test vectors", () => {
  it('verifies a valid signature', () => {
    expect(verify(PUBLIC_KEY, PAYLOAD, SIGNATURE, TIMESTAMP)).toBe(true);
  });
  it('rejects another key', () => {
    expect(verify(OTHER_KEY, PAYLOAD, SIGNATURE, TIMESTAMP)).toBe(false);
  });
  it('rejects another payload', () => {
    expect(verify(PUBLIC_KEY, 'payload', SIGNATURE, TIMESTAMP)).toBe(false);
  });
  it('rejects a changed signature', () => {
    expect(verify(PUBLIC_KEY, PAYLOAD, BAD_SIGNATURE, TIMESTAMP)).toBe(false);
  });
  it('rejects another timestamp', () => {
    expect(verify(PUBLIC_KEY, PAYLOAD, SIGNATURE, 'timestamp')).toBe(false);
  });
});
