import { describe, expect, it } from 'vitest';
import { sendEmail } from '../src/handlers/send-email.js';
import { sendConfirmation } from '../src/handlers/send-confirmation.js';
import type { WorkerDeps } from '../src/deps.js';
import { csrfFrom, loggedInAgent } from '../../../test/support/admin.js';
import { admin, postSend, seedSubscribers } from '../../../test/support/factories.js';
import { jobContext, useStack } from '../../../test/support/stack.js';

// Opens off unless a campaign asks for them, as an operator wary of privacy-proxy opens would set it.
const stack = useStack({ TRACK_OPENS: 'false' });

const body = { subject: 'Issue', body: '<p>Read <a href="https://example.com/story">the story</a>. <a href="{{unsubscribe_url}}">Leave</a></p>' };

async function sendAll(deps: WorkerDeps, tasks: string[]): Promise<void> {
  await Promise.all(tasks.map((deliveryId) => sendEmail({ deliveryId }, jobContext(deps), deps)));
}

const trackingSettings = (tracking: { opens: boolean; clicks: boolean }) => ({
  click_tracking: { enable: tracking.clicks, enable_text: tracking.clicks },
  open_tracking: { enable: tracking.opens },
});

describe('tracking settings per campaign', () => {
  it('takes TRACK_OPENS / TRACK_CLICKS for what /send leaves out and sends them as tracking_settings, alone and in a batch', async () => {
    await seedSubscribers(stack.web.db, [{ email: 'ada@example.com' }, { email: 'bob@example.com' }]);

    const defaulted = await postSend(stack.web.app, body).expect(202);
    expect((await admin(stack.web.app).get(`/campaigns/${defaulted.body.campaignId}`).expect(200)).body.tracking).toEqual({ opens: false, clicks: true });
    await sendAll(stack.workerDeps(), defaulted.body.tasks);
    const batched = stack.sink.inbox.list();
    expect(stack.sink.stats.get()).toMatchObject({ requests: 1, messages: 2 });
    for (const message of batched) {
      expect(message.tracking).toEqual({ opens: false, clicks: true });
      expect(message.request.tracking_settings).toEqual(trackingSettings({ opens: false, clicks: true }));
    }

    const chosen = await postSend(stack.web.app, { ...body, tracking: { opens: true, clicks: false } }).expect(202);
    expect((await admin(stack.web.app).get(`/campaigns/${chosen.body.campaignId}`).expect(200)).body.tracking).toEqual({ opens: true, clicks: false });
    await sendAll(stack.workerDeps({ SEND_BATCH_SIZE: '1' }), chosen.body.tasks);
    const alone = stack.sink.inbox.list().filter((message) => !batched.some((earlier) => earlier.id === message.id));
    expect(alone).toHaveLength(2);
    for (const message of alone) expect(message.request.tracking_settings).toEqual(trackingSettings({ opens: true, clicks: false }));
  });

  it('lets an edit change only the setting it names, until the campaign starts', async () => {
    const scheduled = await postSend(stack.web.app, { ...body, sendAt: new Date(Date.now() + 3_600_000).toISOString(), tracking: { clicks: false } }).expect(202);
    const id = scheduled.body.campaignId as string;
    const edited = await admin(stack.web.app).patch(`/campaigns/${id}`).send({ tracking: { opens: true } }).expect(200);
    expect(edited.body.tracking).toEqual({ opens: true, clicks: false });
    expect(await stack.web.db.campaign.findUniqueOrThrow({ where: { id } })).toMatchObject({ trackOpens: true, trackClicks: false });
    // The report says so, as a script and a reader would need to know why clicks stay at zero.
    expect((await admin(stack.web.app).get(`/campaigns/${id}/report`).expect(200)).body.tracking).toEqual({ opens: true, clicks: false });
    const page = await (await loggedInAgent(stack.web.app)).get(`/admin/campaigns/${id}/report`).expect(200);
    expect(page.text).toContain('Sent with clicks not tracked: SendGrid reports none, so that figure stays at zero.');
  });

  it('refuses tracking that is not two booleans with 400, naming the field, and creates nothing', async () => {
    for (const [tracking, field] of [
      [{ opens: 'yes' }, 'tracking.opens'],
      [{ open: true }, 'tracking.open'],
      [true, 'tracking'],
      [null, 'tracking'],
    ] as const) {
      const answer = await postSend(stack.web.app, { ...body, tracking }).expect(400);
      expect(Object.keys(answer.body.error.fields)).toEqual([field]);
    }
    expect(await stack.web.db.campaign.count()).toBe(0);
  });

  it('keeps a confirmation email untracked, so its link works exactly as written', async () => {
    const [subscriber] = await seedSubscribers(stack.web.db, [{ email: 'new@example.com', status: 'pending' }]);
    await stack.web.db.subscriber.update({ where: { id: subscriber!.id }, data: { confirmationSentAt: null } });
    const deps = stack.workerDeps();
    expect(await sendConfirmation({ subscriberId: subscriber!.id }, jobContext(deps), deps)).toBe('sent');
    const [message] = stack.sink.inbox.findByRecipient('new@example.com');
    expect(message!.request.tracking_settings).toEqual(trackingSettings({ opens: false, clicks: false }));
  });

  it('is chosen on the compose page, the boxes starting from the defaults, and shown on the review page', async () => {
    const agent = await loggedInAgent(stack.web.app);
    const form = await agent.get('/admin/campaigns/new').expect(200);
    expect(form.text).not.toMatch(/id="trackOpens"[^>]*checked/);
    expect(form.text).toMatch(/id="trackClicks"[^>]*checked/);
    // Both boxes unticked: the form sends only its marker.
    const saved = await agent.post('/admin/campaigns').type('form')
      .send({ _csrf: csrfFrom(form.text), intent: 'review', subject: 'Untracked', body: body.body, inArchiveShown: 'true', trackingShown: 'true' }).expect(303);
    expect(await stack.web.db.campaign.findFirstOrThrow()).toMatchObject({ trackOpens: false, trackClicks: false });
    const review = await agent.get(saved.headers.location!).expect(200);
    expect(review.text).toMatch(/Tracking: opens <strong>off<\/strong>, clicks <strong>off<\/strong>/);

    const id = (await stack.web.db.campaign.findFirstOrThrow()).id;
    const edit = await agent.get(`/admin/campaigns/${id}/edit`).expect(200);
    await agent.post(`/admin/campaigns/${id}/edit`).type('form')
      .send({ _csrf: csrfFrom(edit.text), intent: 'draft', subject: 'Untracked', body: body.body, trackingShown: 'true', trackOpens: 'true', trackClicks: 'true' }).expect(303);
    expect(await stack.web.db.campaign.findUniqueOrThrow({ where: { id } })).toMatchObject({ trackOpens: true, trackClicks: true });
  });
});
