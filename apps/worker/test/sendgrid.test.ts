import { describe, expect, it } from 'vitest';
import { classifySendError, rateLimitWaitMs } from '../src/mail/sendgrid.js';

const responseError = (code: number, body: unknown, headers: Record<string, string> = {}) =>
  Object.assign(new Error('Bad Request'), { code, response: { headers, body } });

describe('classifySendError', () => {
  it('waits out a 429 for Retry-After seconds, plus jitter under a second', () => {
    const failure = classifySendError(responseError(429, { errors: [{ message: 'too many requests' }] }, { 'retry-after': '7' }));
    expect(failure.kind).toBe('rate-limited');
    if (failure.kind !== 'rate-limited') return;
    expect(failure.waitMs).toBeGreaterThanOrEqual(7_000);
    expect(failure.waitMs).toBeLessThan(8_000);
  });

  it('falls back to X-RateLimit-Reset, then to a short default', () => {
    const now = 1_700_000_000_000;
    expect(rateLimitWaitMs({ 'x-ratelimit-reset': String(now / 1000 + 30) }, now, () => 0)).toBe(30_000);
    expect(rateLimitWaitMs({}, now, () => 0)).toBe(5_000);
    expect(rateLimitWaitMs({ 'retry-after': 'Wed, 21 Oct 2015 07:28:00 GMT' }, Date.parse('Wed, 21 Oct 2015 07:27:50 GMT'), () => 0)).toBe(10_000);
  });

  it('treats 401 and 403 as a configuration problem for the whole campaign', () => {
    expect(classifySendError(responseError(401, { errors: [{ message: 'bad key', field: null }] }))).toEqual({ kind: 'unauthorized', reason: 'SendGrid 401: bad key' });
    expect(classifySendError(responseError(403, { errors: [{ message: 'unverified sender', field: 'from' }] }))).toEqual({
      kind: 'unauthorized',
      reason: 'SendGrid 403: unverified sender (from)',
    });
  });

  it('fails other 4xx permanently, naming the field', () => {
    expect(classifySendError(responseError(400, { errors: [{ message: 'Does not contain a valid address.', field: 'personalizations.0.to.0.email' }] }))).toEqual({
      kind: 'rejected',
      reason: 'SendGrid 400: Does not contain a valid address. (personalizations.0.to.0.email)',
    });
  });

  it('retries 5xx, including a proxy HTML page, 408 and network errors', () => {
    expect(classifySendError(responseError(502, '<html><body><h1>502 Bad Gateway</h1></body></html>'))).toEqual({
      kind: 'transient',
      reason: 'SendGrid 502: 502 Bad Gateway',
    });
    expect(classifySendError(responseError(408, '')).kind).toBe('transient');
    expect(classifySendError(Object.assign(new Error('timeout of 15000ms exceeded'), { code: 'ECONNABORTED' })).kind).toBe('transient');
    expect(classifySendError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })).kind).toBe('transient');
  });

  it('fails a message the client refused before sending', () => {
    expect(classifySendError(new Error('Provide at least one of to, cc or bcc'))).toEqual({
      kind: 'rejected',
      reason: 'not sent: Provide at least one of to, cc or bcc',
    });
  });
});
