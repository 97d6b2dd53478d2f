import { describe, expect, it } from 'vitest';
import { decideOnFailure } from '../src/mail/failure-policy.js';

const responseError = (code: number, headers: Record<string, string> = {}) =>
  Object.assign(new Error('SendGrid error'), { code, response: { headers, body: { errors: [{ message: `status ${code}` }] } } });
const networkError = (code: string) => Object.assign(new Error('socket trouble'), { code });
const early = { attempt: 1, maxAttempts: 6 };
const last = { attempt: 6, maxAttempts: 6 };

describe('the provider-failure policy', () => {
  it('holds the queue on a 429 until the reset, on any attempt', () => {
    for (const run of [early, last]) {
      const decision = decideOnFailure(responseError(429, { 'retry-after': '3' }), run);
      expect(decision.action).toBe('hold-queue');
      if (decision.action === 'hold-queue') expect(decision.waitMs).toBeGreaterThanOrEqual(3_000);
    }
  });

  it('stops sending on 401 and 403, on any attempt', () => {
    for (const status of [401, 403]) {
      expect(decideOnFailure(responseError(status), early)).toEqual({ action: 'stop', reason: `SendGrid ${status}: status ${status}` });
      expect(decideOnFailure(responseError(status), last).action).toBe('stop');
    }
  });

  it('backs off on 5xx, 408 and network errors, and gives up on the last attempt', () => {
    for (const err of [responseError(500), responseError(503), responseError(408), networkError('ECONNRESET'), networkError('ECONNABORTED')]) {
      expect(decideOnFailure(err, early).action).toBe('retry');
      const final = decideOnFailure(err, last);
      expect(final.action).toBe('give-up');
      expect(final.reason).toMatch(/^gave up after 6 attempts: /);
    }
  });

  it('fails other 4xx and messages the client refused at once', () => {
    for (const err of [responseError(400), responseError(413), new Error('Personalizations are required')]) {
      expect(decideOnFailure(err, early).action).toBe('give-up');
    }
  });
});
