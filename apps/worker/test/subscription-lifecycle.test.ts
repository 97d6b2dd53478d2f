import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { fanOut } from '../src/handlers/fan-out.js';
import { sendEmail } from '../src/handlers/send-email.js';
import { postSend, seedSubscribers, waitForCampaignSent } from '../../../test/support/factories.js';
import { useStack, jobContext, waitFor } from '../../../test/support/stack.js';

const stack = useStack();

/** Signs up through the form and returns the confirmation link the worker emailed. */
async function signUpAndReadLink(email: string): Promise<string> {
  await request(stack.web.app).post('/register').type('form').send({ email, name: 'Reader' }).expect(200);
  const message = await waitFor('the confirmation email', () => stack.sink.inbox.findByRecipient(email).at(-1));
  const link = /http:\/\/herald\.test(\/confirm\/[A-Za-z0-9_-]+)/.exec(message.text ?? '')?.[1];
  expect(link).toBeDefined();
  return link!;
}

async function statusOf(email: string) {
  return (await stack.web.db.subscriber.findUnique({ where: { email } }))?.status;
}

describe('double opt-in', () => {
  it('confirms by POST only: the GET shows a button and changes nothing', async () => {
    await stack.startWorker();
    const link = await signUpAndReadLink('new@example.com');
    const message = stack.sink.inbox.findByRecipient('new@example.com')[0]!;
    expect(message.subject).toBe('Confirm your subscription to Herald');
    expect(message.html).toContain(`href="http://herald.test${link}"`);

    const page = await request(stack.web.app).get(link).expect(200);
    expect(page.text).toContain(`<form method="post" action="${link}">`);
    await request(stack.web.app).get(link).expect(200);
    expect(await statusOf('new@example.com')).toBe('pending');

    const done = await request(stack.web.app).post(link).expect(200);
    expect(done.text).toContain('You are subscribed');
    const row = await stack.web.db.subscriber.findUnique({ where: { email: 'new@example.com' } });
    expect(row).toMatchObject({ status: 'active', confirmTokenHash: null });
    expect(row?.confirmedAt).toBeInstanceOf(Date);
  });

  it('lets a token work once, and then says the subscription is already confirmed', async () => {
    await stack.startWorker();
    const link = await signUpAndReadLink('once@example.com');
    await request(stack.web.app).post(link).expect(200);
    const confirmedAt = (await stack.web.db.subscriber.findUniqueOrThrow({ where: { email: 'once@example.com' } })).confirmedAt;
    const again = await request(stack.web.app).post(link).expect(200);
    expect(again.text).toContain('You are already subscribed');
    const page = await request(stack.web.app).get(link).expect(200);
    expect(page.text).toContain('You are already subscribed');
    expect(page.text).not.toContain('<form');
    expect((await stack.web.db.subscriber.findUniqueOrThrow({ where: { email: 'once@example.com' } })).confirmedAt).toEqual(confirmedAt);

    // Once the person has left, the old link confirms nothing and says nothing about them.
    await stack.web.db.subscriber.update({ where: { email: 'once@example.com' }, data: { status: 'unsubscribed' } });
    const gone = await request(stack.web.app).post(link).expect(404);
    expect(gone.text).toContain('sign up again');
    await request(stack.web.app).get(link).expect(404);
    expect(await statusOf('once@example.com')).toBe('unsubscribed');
  });

  it('refuses an expired token with 410 and a way to sign up again, changing nothing', async () => {
    await stack.startWorker();
    const link = await signUpAndReadLink('late@example.com');
    await stack.web.db.subscriber.update({ where: { email: 'late@example.com' }, data: { confirmTokenExpiresAt: new Date(Date.now() - 1000) } });
    const page = await request(stack.web.app).get(link).expect(410);
    expect(page.text).toContain('href="/"');
    await request(stack.web.app).post(link).expect(410);
    expect(await statusOf('late@example.com')).toBe('pending');
  });

  it('answers unknown and malformed tokens with a friendly 404', async () => {
    await request(stack.web.app).get('/confirm/not-a-token').expect(404);
    await request(stack.web.app).post(`/confirm/${'A'.repeat(43)}`).expect(404);
    const page = await request(stack.web.app).get(`/confirm/${'A'.repeat(43)}`).expect(404);
    expect(page.headers['content-type']).toMatch(/text\/html/);
  });

  it('re-sends the confirmation to a pending signup at most once per ten minutes', async () => {
    await stack.startWorker();
    const first = await signUpAndReadLink('again@example.com');
    await request(stack.web.app).post('/register').type('form').send({ email: 'again@example.com' }).expect(200);
    const deps = stack.workerDeps();
    // Whatever job the second signup made (BullMQ may have deduplicated it) has finished once
    // nothing is left to run: a finished job made its provider call, if any, before it finished.
    await waitFor('every confirmation job to finish', async () => {
      const counts = await deps.queues.confirmations.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed');
      return counts.completed! >= 1 && counts.waiting! + counts.active! + counts.delayed! + counts.prioritized! === 0;
    });
    expect(stack.sink.inbox.findByRecipient('again@example.com')).toHaveLength(1);

    // Eleven minutes later, a new signup sends a new link and the old one stops working.
    await stack.web.db.subscriber.update({ where: { email: 'again@example.com' }, data: { confirmationSentAt: new Date(Date.now() - 11 * 60 * 1000) } });
    const { sendConfirmation } = await import('../src/handlers/send-confirmation.js');
    const subscriber = await stack.web.db.subscriber.findUniqueOrThrow({ where: { email: 'again@example.com' } });
    expect(await sendConfirmation({ subscriberId: subscriber.id }, jobContext(deps), deps)).toBe('sent');
    expect(stack.sink.inbox.findByRecipient('again@example.com')).toHaveLength(2);
    await request(stack.web.app).post(first).expect(404);
  });
});

describe('unsubscribe', () => {
  async function seedReader() {
    const [reader] = await seedSubscribers(stack.web.db, [{ email: 'reader@example.com' }]);
    return reader!;
  }

  it('shows a button on GET and never unsubscribes by itself', async () => {
    const reader = await seedReader();
    const page = await request(stack.web.app).get(`/unsubscribe/${reader.unsubscribeToken}`).expect(200);
    expect(page.text).toContain('reader@example.com');
    expect(page.text).toContain(`<form method="post" action="/unsubscribe/${reader.unsubscribeToken}">`);
    expect(await statusOf('reader@example.com')).toBe('active');
  });

  it('unsubscribes on the RFC 8058 one-click POST, with no session or CSRF token, idempotently', async () => {
    const reader = await seedReader();
    for (let i = 0; i < 2; i++) {
      await request(stack.web.app)
        .post(`/unsubscribe/${reader.unsubscribeToken}`)
        .set('Content-Type', 'application/x-www-form-urlencoded')
        .send('List-Unsubscribe=One-Click')
        .expect(200);
    }
    const row = await stack.web.db.subscriber.findUniqueOrThrow({ where: { email: 'reader@example.com' } });
    expect(row.status).toBe('unsubscribed');
    expect(row.unsubscribedAt).toBeInstanceOf(Date);
  });

  it('accepts a bare POST and answers an unknown token with 404', async () => {
    const reader = await seedReader();
    await request(stack.web.app).post(`/unsubscribe/${reader.unsubscribeToken}`).expect(200);
    expect(await statusOf('reader@example.com')).toBe('unsubscribed');
    await request(stack.web.app).post(`/unsubscribe/${'0'.repeat(64)}`).expect(404);
    await request(stack.web.app).get('/unsubscribe/../../etc').expect(404);
  });

  it('stops the rest of a running campaign for that person', async () => {
    const [early, leaver, later] = await seedSubscribers(stack.web.db, [
      { email: 'a@example.com' },
      { email: 'b@example.com' },
      { email: 'c@example.com' },
    ]);
    const res = await postSend(stack.web.app).expect(202);
    const deps = stack.workerDeps();
    await fanOut({ campaignId: res.body.campaignId }, jobContext(deps), deps);
    const deliveries = await stack.web.db.delivery.findMany({ where: { campaignId: res.body.campaignId } });
    const deliveryOf = (id: string) => deliveries.find((d) => d.subscriberId === id)!.id;
    await sendEmail({ deliveryId: deliveryOf(early!.id) }, jobContext(deps), deps);

    // The one-click URL is the one in the email that went out.
    const sentHeaders = stack.sink.inbox.list()[0]!.request.headers ?? {};
    expect(sentHeaders['List-Unsubscribe']).toBe(`<http://herald.test/unsubscribe/${early!.unsubscribeToken}/c/${res.body.campaignId}>`);
    await request(stack.web.app).post(`/unsubscribe/${leaver!.unsubscribeToken}/c/${res.body.campaignId}`).send('List-Unsubscribe=One-Click').expect(200);
    expect(await stack.web.db.delivery.findUnique({ where: { id: deliveryOf(leaver!.id) } })).toMatchObject({ status: 'skipped' });

    await stack.startWorker();
    await waitForCampaignSent(stack.web.db, res.body.campaignId);
    expect(stack.sink.inbox.list().map((m) => m.recipients[0]).sort()).toEqual(['a@example.com', later!.email]);
  });
});

describe('postal address', () => {
  it('refuses to start a campaign in production without MAIL_POSTAL_ADDRESS, saying why on the campaign', async () => {
    await seedSubscribers(stack.web.db, [{ email: 'a@example.com' }]);
    const res = await postSend(stack.web.app).expect(202);
    const deps = stack.workerDeps({ NODE_ENV: 'production', MAIL_POSTAL_ADDRESS: '' });
    expect(await fanOut({ campaignId: res.body.campaignId }, jobContext(deps), deps)).toEqual({ status: 'paused' });
    const campaign = await stack.web.db.campaign.findUniqueOrThrow({ where: { id: res.body.campaignId } });
    expect(campaign).toMatchObject({ status: 'paused' });
    expect(campaign.statusReason).toMatch(/MAIL_POSTAL_ADDRESS/);
    expect(stack.sink.stats.get().requests).toBe(0);
  });
});
