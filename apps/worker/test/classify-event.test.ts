import { describe, expect, it } from 'vitest';
import { classifyEvent, eventEffects } from '../src/events/classify-event.js';

describe('the event effect table', () => {
  it.each(eventEffects.map((row) => [row.event, row.when ? `${row.when.field}=${row.when.value}` : '(any)', row] as const))(
    '%s with %s implies what its row says',
    (_event, _when, row) => {
      expect(row.source).not.toBe('');
      const field = row.when?.field;
      const value = row.when?.value ?? null;
      // A blocked bounce carries the classification under test; a plain type= row stands alone.
      const bounceType = field === 'type' ? value : field === 'bounce_classification' ? 'blocked' : null;
      const status = classifyEvent({
        type: row.event,
        bounceType,
        reason: field === 'reason' ? value : null,
        classification: field === 'bounce_classification' ? value : null,
      });
      expect(status, row.source).toBe(row.status);
    },
  );

  it('covers every documented dropped reason', () => {
    const reasons = eventEffects.filter((row) => row.event === 'dropped' && row.when).map((row) => row.when!.value);
    expect(reasons).toEqual(expect.arrayContaining([
      'Invalid SMTPAPI header', 'Spam Content', 'Unsubscribed Address', 'Bounced Address', 'Spam Reporting Address', 'Invalid', 'Recipient List over Package Quota',
    ]));
  });

  it('covers every bounce and block classification', () => {
    const classifications = eventEffects.filter((row) => row.when?.field === 'bounce_classification').map((row) => row.when!.value);
    expect(classifications.sort()).toEqual(['Content', 'Frequency or Volume', 'Invalid Address', 'Mailbox Unavailable', 'Reputation', 'Technical', 'Unclassified']);
  });
});

describe('classifyEvent', () => {
  const classify = (type: string, fields: { bounceType?: string; reason?: string; classification?: string } = {}) =>
    classifyEvent({ type, bounceType: fields.bounceType ?? null, reason: fields.reason ?? null, classification: fields.classification ?? null });

  it('keeps a hard bounce hard whatever its classification, and a bounce without a type is hard', () => {
    expect(classify('bounce', { bounceType: 'bounce', classification: 'Reputation' })).toBe('bounced');
    expect(classify('bounce', { classification: 'Technical' })).toBe('bounced');
    expect(classify('bounce')).toBe('bounced');
  });

  it('suppresses a block only when the address itself is invalid', () => {
    expect(classify('bounce', { bounceType: 'blocked', classification: 'Invalid Address' })).toBe('bounced');
    expect(classify('bounce', { bounceType: 'blocked', classification: 'Mailbox Unavailable' })).toBeUndefined();
    expect(classify('bounce', { bounceType: 'blocked' })).toBeUndefined();
    expect(classify('bounce', { bounceType: 'something new' })).toBeUndefined();
  });

  it('maps drops to the suppression list they name, case-insensitively, and records unknown reasons only', () => {
    expect(classify('dropped', { reason: 'unsubscribed address' })).toBe('unsubscribed');
    expect(classify('dropped', { reason: ' Spam Reporting Address ' })).toBe('complained');
    expect(classify('dropped', { reason: 'Invalid SMTPAPI header' })).toBeUndefined();
    expect(classify('dropped', { reason: 'Something new' })).toBeUndefined();
    expect(classify('dropped')).toBeUndefined();
  });

  it('records unknown kinds of event only', () => {
    expect(classify('constructor')).toBeUndefined();
    expect(classify('machine_open')).toBeUndefined();
  });
});
