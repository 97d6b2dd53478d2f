import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { seedSubscribers } from '../../../test/support/factories.js';
import { adminToken, useWebHarness } from '../../../test/support/web.js';
import { defaultList, issueConfirmLink, seedList, subscriptionsByEmail, welcomeRowsOf } from './list-fixtures.js';

/**
 * Requests that race for the same person: the answers and the rows must be those of one order or
 * the other, never a mix (a duplicate subscription, a second welcome email, a 500 from a unique key).
 */
const web = useWebHarness();
const iterations = 20;
const auth = { Authorization: `Bearer ${adminToken}` };

async function subscriptionRows(subscriberId: string, listId: string): Promise<number> {
  const [row] = await web.db.$queryRaw<{ n: number }[]>`
    SELECT count(*)::int AS n FROM subscriptions WHERE subscriber_id = ${subscriberId}::uuid AND list_id = ${listId}::uuid`;
  return row!.n;
}

/** A person whose address is unconfirmed, pending on the default list and on `weekly`. */
async function pendingOnTwoLists(email: string, weekly: string) {
  const [row] = await seedSubscribers(web.db, [{ email, status: 'pending' }]);
  await web.db.$executeRaw`
    INSERT INTO subscriptions (subscriber_id, list_id, status, consent_at, consent_source)
    VALUES (${row!.id}::uuid, ${weekly}::uuid, 'pending', now(), 'form')`;
  return { ...row!, confirm: await issueConfirmLink(web.db, email), page: `/preferences/${row!.unsubscribeToken}` };
}

/** The person's own status, their subscriptions and welcome rows: what a race must leave consistent. */
async function stateOf(email: string) {
  const [person] = await web.db.$queryRaw<{ status: string }[]>`SELECT status::text AS status FROM subscribers WHERE email = ${email}`;
  return { status: person!.status, lists: await subscriptionsByEmail(web.db, email), welcomes: await welcomeRowsOf(web.db, email) };
}

describe('audience races', () => {
  it('two PUT /subscribers/:id/lists/:listId at once make one subscription and one welcome email', async () => {
    const weekly = await seedList(web.db, { slug: 'weekly', welcome: true });
    const people = await seedSubscribers(web.db, Array.from({ length: iterations }, (_, i) => ({ email: `race${i}@example.com` })));
    for (const person of people) {
      const path = `/subscribers/${person.id}/lists/${weekly}`;
      const answers = await Promise.all([request(web.app).put(path).set(auth), request(web.app).put(path).set(auth)]);
      for (const res of answers) expect(res.status, res.text).toBeGreaterThanOrEqual(200);
      for (const res of answers) expect(res.status, res.text).toBeLessThan(300);
      expect(await subscriptionRows(person.id, weekly)).toBe(1);
      expect(await stateOf(person.email)).toEqual({ status: 'active', lists: { newsletter: 'active', weekly: 'active' }, welcomes: ['weekly'] });
    }
  });

  it('a preference-centre save racing the confirmation link ends as one order or the other', async () => {
    const weekly = await seedList(web.db, { slug: 'weekly', welcome: true });
    const newsletter = await defaultList(web.db);
    // Keep weekly, leave the default list.
    const choice = `shown=${newsletter}&shown=${weekly}&lists=${weekly}`;
    const save = (p: { page: string }) => request(web.app).post(p.page).type('form').send(choice);
    const confirm = (p: { confirm: string }) => request(web.app).post(p.confirm).type('form').send('');

    // The two serial orders give the outcomes a race may end in.
    const first = await pendingOnTwoLists('serial-a@example.com', weekly);
    expect((await save(first)).status).toBeLessThan(500);
    expect((await confirm(first)).status).toBeLessThan(500);
    const second = await pendingOnTwoLists('serial-b@example.com', weekly);
    expect((await confirm(second)).status).toBeLessThan(500);
    expect((await save(second)).status).toBeLessThan(500);
    const outcomes = [await stateOf(first.email), await stateOf(second.email)];

    for (let i = 0; i < iterations; i++) {
      const email = `race${i}@example.com`;
      const person = await pendingOnTwoLists(email, weekly);
      const answers = await Promise.all([save(person), confirm(person)]);
      for (const res of answers) expect(res.status, res.text.slice(0, 300)).toBeLessThan(500);
      expect(await subscriptionRows(person.id, weekly)).toBe(1);
      expect(await subscriptionRows(person.id, newsletter)).toBe(1);
      expect(outcomes, `${email} ended as ${JSON.stringify(await stateOf(email))}`).toContainEqual(await stateOf(email));
    }
  });
});
