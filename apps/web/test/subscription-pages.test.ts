import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { seedSubscribers } from '../../../test/support/factories.js';
import { truncateAll } from '../../../test/support/database.js';
import { createStack, waitFor } from '../../../test/support/stack.js';
import type { Stack } from '../../../test/support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await createStack({ NEWSLETTER_NAME: 'The Weekly Lantern' });
  await stack.startWorker();
});
afterAll(async () => {
  await stack.close();
});
beforeEach(async () => {
  await truncateAll(stack.web.db);
  stack.sink.inbox.clear();
});

async function subscriber(email: string, status: 'active' | 'unsubscribed' | 'bounced' | 'complained' | 'pending' = 'active') {
  const [row] = await seedSubscribers(stack.web.db, [{ email, name: 'Ann', status }]);
  return { ...row!, link: `/unsubscribe/${row!.unsubscribeToken}` };
}

async function statusOf(email: string) {
  return (await stack.web.db.subscriber.findUniqueOrThrow({ where: { email } })).status;
}

describe('the unsubscribe link', () => {
  it("names the newsletter, and once used says the person is unsubscribed with a way back", async () => {
    const ann = await subscriber('ann@example.com');
    const ask = await request(stack.web.app).get(ann.link).expect(200);
    expect(ask.text).toContain('<title>Unsubscribe · The Weekly Lantern</title>');
    expect(ask.text).toContain('Stop sending everything from The Weekly Lantern to <strong>ann@example.com</strong>?');
    expect(ask.text).toContain(`href="/preferences/${ann.unsubscribeToken}"`);

    const done = await request(stack.web.app).post(ann.link).expect(200);
    expect(done.text).toContain('<h1>You are unsubscribed</h1>');
    expect(done.text).toContain(`<form class="resubscribe" method="post" action="${ann.link}/resubscribe">`);

    // Opened again: no second "Stop sending…?", but where they stand and "subscribe again".
    const again = await request(stack.web.app).get(ann.link).expect(200);
    expect(again.text).toContain('<h1>You are already unsubscribed</h1>');
    expect(again.text).toContain('receives no more emails from The Weekly Lantern');
    expect(again.text).not.toContain('Stop sending');
    expect(again.text).toContain('Subscribe again');
    // The one-click POST stays idempotent and 200.
    const oneClick = await request(stack.web.app).post(ann.link).type('form').send('List-Unsubscribe=One-Click').expect(200);
    expect(oneClick.text).toContain('<h1>You are already unsubscribed</h1>');
    expect(await statusOf('ann@example.com')).toBe('unsubscribed');
  });

  it('subscribes again only through a new confirmation', async () => {
    const ann = await subscriber('ann@example.com', 'unsubscribed');
    const res = await request(stack.web.app).post(`${ann.link}/resubscribe`).expect(200);
    expect(res.text).toContain('<h1>Check your inbox</h1>');
    // Pending, not active: nothing but the confirmation email until they confirm.
    expect(await stack.web.db.subscriber.findUniqueOrThrow({ where: { email: 'ann@example.com' } })).toMatchObject({
      status: 'pending',
      consentSource: 'resubscribe-link',
      confirmedAt: null,
    });

    const message = await waitFor('the confirmation email', () => stack.sink.inbox.findByRecipient('ann@example.com').at(-1));
    expect(message.subject).toBe('Confirm your subscription to The Weekly Lantern');
    expect(message.html).toContain('Hello Ann,');
    const confirm = /http:\/\/herald\.test(\/confirm\/[A-Za-z0-9_-]+)/.exec(message.text ?? '')?.[1];
    const page = await request(stack.web.app).post(confirm!).expect(200);
    expect(page.text).toContain('The next issue of The Weekly Lantern will come to your inbox.');
    expect(await statusOf('ann@example.com')).toBe('active');
    // They had no list left to go back to: the confirmation made them a member of the default list.
    const subscriptions = await stack.web.db.$queryRaw<{ status: string }[]>`
      SELECT sub.status::text AS status FROM subscriptions sub JOIN lists l ON l.id = sub.list_id AND l.is_default
      WHERE sub.subscriber_id = ${ann.id}::uuid`;
    expect(subscriptions).toEqual([{ status: 'active' }]);

    // The unsubscribe link works as before, and "subscribe again" now says they already are.
    await request(stack.web.app).get(ann.link).expect(200).expect(/Stop sending everything from The Weekly Lantern/);
    const twice = await request(stack.web.app).post(`${ann.link}/resubscribe`).expect(200);
    expect(twice.text).toContain('<h1>You are already subscribed</h1>');
    expect(await statusOf('ann@example.com')).toBe('active');
  });

  it('never resubscribes a bounced or complained address, nor offers to', async () => {
    for (const status of ['bounced', 'complained'] as const) {
      const person = await subscriber(`${status}@example.com`, status);
      const page = await request(stack.web.app).get(person.link).expect(200);
      expect(page.text).toContain('receives nothing more from The Weekly Lantern');
      expect(page.text).not.toContain('Subscribe again');
      expect(page.text).not.toContain('<form');
      const posted = await request(stack.web.app).post(person.link).expect(200);
      expect(posted.text).not.toContain('Subscribe again');
      const refused = await request(stack.web.app).post(`${person.link}/resubscribe`).expect(409);
      expect(refused.text).toContain('cannot be subscribed again');
      expect(await statusOf(person.email)).toBe(status);
    }
    expect(stack.sink.inbox.list()).toHaveLength(0);
  });

  it('answers unknown and malformed tokens with 404 and changes nothing', async () => {
    await subscriber('ann@example.com', 'unsubscribed');
    await request(stack.web.app).post(`/unsubscribe/${'0'.repeat(64)}/resubscribe`).expect(404);
    await request(stack.web.app).post('/unsubscribe/nope/resubscribe').expect(404);
    await request(stack.web.app).get(`/unsubscribe/${'0'.repeat(64)}`).expect(404);
    expect(await statusOf('ann@example.com')).toBe('unsubscribed');
  });

  it('refuses an oversized resubscribe form with 413, changing nothing', async () => {
    const ann = await subscriber('ann@example.com', 'unsubscribed');
    await request(stack.web.app).post(`${ann.link}/resubscribe`).type('form').send(`x=${'a'.repeat(5000)}`).expect(413);
    expect(await statusOf('ann@example.com')).toBe('unsubscribed');
  });
});

describe('pages that reveal nothing about an address', () => {
  it('answers a signup for an unsubscribed, active or unknown address the same way', async () => {
    await subscriber('active@example.com');
    await subscriber('left@example.com', 'unsubscribed');
    const pages = [];
    for (const email of ['active@example.com', 'left@example.com', 'new@example.com']) {
      const res = await request(stack.web.app).post('/register').type('form').send({ email }).expect(200);
      pages.push(res.text);
    }
    expect(new Set(pages).size).toBe(1);
    expect(pages[0]).toContain('<title>Almost there · The Weekly Lantern</title>');
  });
});
