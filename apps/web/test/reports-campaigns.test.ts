/**
 * GET /reports/campaigns: the range it reads (defaults, dates and datetimes, the 400s) and the
 * audience's growth per UTC day, overall and per list, from the times on subscribers and their
 * subscriptions. The campaigns' figures are in apps/worker/test/campaigns-report.test.ts, where
 * the real event processing makes them.
 */
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { suppressSubscribers } from '@herald/shared';
import { admin } from '../../../test/support/factories.js';
import { useWebHarness } from '../../../test/support/web.js';

const web = useWebHarness();

const at = (text: string) => new Date(text);

type Person = {
  email: string;
  status?: 'active' | 'unsubscribed' | 'bounced';
  createdAt: string;
  confirmedAt?: string;
  unsubscribedAt?: string;
  suppressedAt?: string;
  subscriptions: { list: string; createdAt: string; confirmedAt?: string; unsubscribedAt?: string }[];
};

async function seed(people: Person[]) {
  const lists = new Map((await web.db.list.findMany()).map((list) => [list.slug, list.id]));
  for (const person of people) {
    const row = await web.db.subscriber.create({
      data: {
        email: person.email,
        status: person.status ?? 'active',
        createdAt: at(person.createdAt),
        confirmedAt: person.confirmedAt ? at(person.confirmedAt) : null,
        unsubscribedAt: person.unsubscribedAt ? at(person.unsubscribedAt) : null,
        suppressedAt: person.suppressedAt ? at(person.suppressedAt) : null,
      },
    });
    for (const sub of person.subscriptions) {
      await web.db.subscription.create({
        data: {
          subscriberId: row.id,
          listId: lists.get(sub.list)!,
          status: sub.unsubscribedAt ? 'unsubscribed' : sub.confirmedAt ? 'active' : 'pending',
          createdAt: at(sub.createdAt),
          confirmedAt: sub.confirmedAt ? at(sub.confirmedAt) : null,
          unsubscribedAt: sub.unsubscribedAt ? at(sub.unsubscribedAt) : null,
        },
      });
    }
  }
}

const day = (date: string, signups: number, confirmations: number, unsubscribes: number, suppressions: number) => ({
  day: date, signups, confirmations, unsubscribes, suppressions, net: confirmations - unsubscribes - suppressions,
});

describe('GET /reports/campaigns: the audience', () => {
  it('counts signups, confirmations, unsubscribes and suppressions per UTC day, overall and per list', async () => {
    await web.db.list.create({ data: { name: 'Weekly', slug: 'weekly' } });
    await web.db.list.create({ data: { name: 'Old', slug: 'old', archivedAt: at('2026-01-01T00:00:00Z') } });
    await seed([
      {
        email: 'ada@example.com', createdAt: '2026-05-01T10:00:00Z', confirmedAt: '2026-05-01T11:00:00Z',
        subscriptions: [
          { list: 'newsletter', createdAt: '2026-05-01T10:00:00Z', confirmedAt: '2026-05-01T11:00:00Z' },
          { list: 'weekly', createdAt: '2026-05-02T09:00:00Z', confirmedAt: '2026-05-02T09:00:00Z', unsubscribedAt: '2026-05-03T09:00:00Z' },
        ],
      },
      // Signed up before midnight, confirmed after: two days.
      {
        email: 'ben@example.com', createdAt: '2026-05-01T23:30:00Z', confirmedAt: '2026-05-02T00:10:00Z',
        subscriptions: [{ list: 'newsletter', createdAt: '2026-05-01T23:30:00Z', confirmedAt: '2026-05-02T00:10:00Z' }],
      },
      // Suppressed in the range: under the lists they were on then, not the one they had left.
      {
        email: 'cy@example.com', status: 'bounced', createdAt: '2026-04-20T08:00:00Z', confirmedAt: '2026-04-20T08:00:00Z', suppressedAt: '2026-05-03T08:00:00Z',
        subscriptions: [
          { list: 'newsletter', createdAt: '2026-04-20T08:00:00Z', confirmedAt: '2026-04-20T08:00:00Z' },
          { list: 'weekly', createdAt: '2026-04-20T08:00:00Z', confirmedAt: '2026-04-20T08:00:00Z', unsubscribedAt: '2026-04-25T08:00:00Z' },
        ],
      },
      {
        email: 'dee@example.com', status: 'unsubscribed', createdAt: '2026-05-02T12:00:00Z', confirmedAt: '2026-05-02T12:00:00Z', unsubscribedAt: '2026-05-03T23:59:59Z',
        subscriptions: [{ list: 'newsletter', createdAt: '2026-05-02T12:00:00Z', confirmedAt: '2026-05-02T12:00:00Z', unsubscribedAt: '2026-05-03T23:59:59Z' }],
      },
      // After the range.
      {
        email: 'eve@example.com', createdAt: '2026-05-04T00:00:00Z', confirmedAt: '2026-05-04T00:00:00Z',
        subscriptions: [{ list: 'newsletter', createdAt: '2026-05-04T00:00:00Z', confirmedAt: '2026-05-04T00:00:00Z' }],
      },
    ]);

    const res = await admin(web.app).get('/reports/campaigns?from=2026-05-01&to=2026-05-03').expect(200);
    expect(res.body).toMatchObject({ from: '2026-05-01T00:00:00.000Z', to: '2026-05-04T00:00:00.000Z', campaigns: [] });
    const { audience } = res.body;
    expect(audience.days).toEqual([day('2026-05-01', 2, 1, 0, 0), day('2026-05-02', 1, 2, 0, 0), day('2026-05-03', 0, 0, 1, 1)]);
    expect(audience.totals).toEqual({ signups: 3, confirmations: 3, unsubscribes: 1, suppressions: 1, net: 1 });
    // The default list first, then by name; a list archived before the range is left out.
    expect(audience.lists.map((list: { slug: string }) => list.slug)).toEqual(['newsletter', 'weekly']);
    const [newsletter, weekly] = audience.lists;
    expect(newsletter.days).toEqual([day('2026-05-01', 2, 1, 0, 0), day('2026-05-02', 1, 2, 0, 0), day('2026-05-03', 0, 0, 1, 1)]);
    expect(weekly).toMatchObject({ name: 'Weekly', totals: { signups: 1, confirmations: 1, unsubscribes: 1, suppressions: 0, net: 0 } });
    expect(weekly.days).toEqual([day('2026-05-01', 0, 0, 0, 0), day('2026-05-02', 1, 1, 0, 0), day('2026-05-03', 0, 0, 1, 0)]);

    // Datetimes cut the days they fall in: `from` counts, `to` does not.
    const cut = await admin(web.app).get('/reports/campaigns?from=2026-05-01T12:00:00Z&to=2026-05-02T00:10:00Z').expect(200);
    expect(cut.body.audience.days).toEqual([day('2026-05-01', 1, 0, 0, 0), day('2026-05-02', 0, 0, 0, 0)]);
    const offset = await admin(web.app).get(`/reports/campaigns?from=${encodeURIComponent('2026-05-02T01:00:00+02:00')}&to=2026-05-02`).expect(200);
    expect(offset.body.from).toBe('2026-05-01T23:00:00.000Z');
    expect(offset.body.audience.days).toEqual([day('2026-05-01', 1, 0, 0, 0), day('2026-05-02', 1, 2, 0, 0)]);
  });

  it('records when a subscriber is suppressed, and keeps that time', async () => {
    const person = await web.db.subscriber.create({ data: { email: 'lin@example.com', status: 'active' } });
    await suppressSubscribers(web.db, [person.id], 'unsubscribed');
    expect((await web.db.subscriber.findUniqueOrThrow({ where: { id: person.id } })).suppressedAt).toBeNull();
    await suppressSubscribers(web.db, [person.id], 'bounced');
    const bounced = await web.db.subscriber.findUniqueOrThrow({ where: { id: person.id } });
    expect(bounced.suppressedAt).toBeInstanceOf(Date);
    // A complaint after the bounce changes nothing: the address was suppressed already.
    await suppressSubscribers(web.db, [person.id], 'complained');
    expect((await web.db.subscriber.findUniqueOrThrow({ where: { id: person.id } })).suppressedAt).toEqual(bounced.suppressedAt);
    const today = new Date().toISOString().slice(0, 10);
    const res = await admin(web.app).get(`/reports/campaigns?from=${today}&to=${today}`).expect(200);
    expect(res.body.audience.days).toEqual([day(today, 1, 0, 1, 1)]);
  });

  it('covers the last 30 days by default, up to now', async () => {
    const before = Date.now();
    const res = await admin(web.app).get('/reports/campaigns').expect(200);
    const to = Date.parse(res.body.to);
    expect(to).toBeGreaterThanOrEqual(before - 1000);
    expect(to - Date.parse(res.body.from)).toBe(30 * 86_400_000);
    expect(res.body.audience.days).toHaveLength(31);
    expect(res.body.audience.days.at(-1).day).toBe(res.body.to.slice(0, 10));
    const onlyTo = await admin(web.app).get('/reports/campaigns?to=2026-05-31').expect(200);
    expect(onlyTo.body).toMatchObject({ from: '2026-05-02T00:00:00.000Z', to: '2026-06-01T00:00:00.000Z' });
  });
});

describe('GET /reports/campaigns: bad input', () => {
  it('needs the admin token', async () => {
    await request(web.app).get('/reports/campaigns').expect(401);
  });

  it.each([
    ['from=yesterday', 'from'],
    ['to=2026-13-01', 'to'],
    ['from=2026-02-30', 'from'],
    ['from=2026-05-01T10:00', 'from'],
    ['from=2026-05-01T10:00:00', 'from'],
    ['to=1777777777', 'to'],
    ['from=2026-05-01&from=2026-05-02', 'from'],
    ['from=2026-05-03&to=2026-05-01', 'from'],
    ['from=2026-05-02T00:00:01Z&to=2026-05-02T00:00:00Z', 'from'],
    ['from=2026-05-02T00:00:00Z&to=2026-05-02T00:00:00Z', 'from'],
    ['from=2025-01-01&to=2026-05-01', 'to'],
    ['from=2027-05-01&to=2028-05-01', 'to'],
    ['to=0001-01-01', 'to'],
    ['to=9999-12-31', 'to'],
  ])('answers 400 naming the field for %s', async (query, field) => {
    const res = await admin(web.app).get(`/reports/campaigns?${query}`).expect(400);
    expect(res.body.error.code).toBe('invalid_request');
    expect(Object.keys(res.body.error.fields)).toEqual([field]);
    expect(typeof res.body.error.fields[field]).toBe('string');
  });

  it('takes a range of up to 366 days', async () => {
    // 2028 is a leap year: 1 May 2027 to the end of 30 April 2028 is 366 days.
    await admin(web.app).get('/reports/campaigns?from=2027-05-01&to=2028-04-30').expect(200);
  });
});
