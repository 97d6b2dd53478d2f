import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { reconcile } from '../src/handlers/reconcile.js';
import { admin, campaignBody, deliveriesByStatus, postSend, seedSubscribers } from '../../../test/support/factories.js';
import { useStack, jobContext, waitFor } from '../../../test/support/stack.js';
import { withoutInlineStyles } from '../../../test/support/email-css.js';

const stack = useStack();

const inTenDays = () => new Date(Date.now() + 10 * 24 * 60 * 60 * 1000).toISOString();

/** Time passes: the campaign's sendAt moves into the past, as if ten days had gone by. */
async function makeDue(campaignId: string) {
  await stack.web.db.campaign.update({ where: { id: campaignId }, data: { sendAt: new Date(Date.now() - 1000) } });
}

async function campaign(id: string) {
  return stack.web.db.campaign.findUniqueOrThrow({ where: { id } });
}

/** Signs up through the public form and confirms with the link from the email, as a person would. */
async function signUpAndConfirm(email: string, name: string) {
  await request(stack.web.app).post('/register').type('form').send({ email, name }).expect(200);
  const message = await waitFor('the confirmation email', () => stack.sink.inbox.findByRecipient(email).at(-1));
  const link = /http:\/\/herald\.test(\/confirm\/[A-Za-z0-9_-]+)/.exec(message.text ?? '')?.[1];
  await request(stack.web.app).post(link!).expect(200);
}

describe('a scheduled campaign', () => {
  it('takes its audience when it starts: a subscriber confirmed after scheduling receives it', async () => {
    await seedSubscribers(stack.web.db, [{ email: 'early@example.com', name: 'Early' }, { email: 'leaving@example.com' }]);
    await stack.startWorker();

    const res = await postSend(stack.web.app, { ...campaignBody, sendAt: inTenDays() }).expect(202);
    expect(res.body).toMatchObject({ status: 'scheduled', tasks: [], links: { tasks: `/campaigns/${res.body.campaignId}/tasks` } });
    expect(await stack.web.db.delivery.count()).toBe(0);
    const before = await admin(stack.web.app).get(res.body.links.tasks).expect(200);
    expect(before.body.tasks).toEqual([]);

    // Between scheduling and the start: one person confirms, one leaves.
    await signUpAndConfirm('late@example.com', 'Late');
    await stack.web.db.subscriber.update({ where: { email: 'leaving@example.com' }, data: { status: 'unsubscribed' } });

    await makeDue(res.body.campaignId);
    const deps = stack.workerDeps();
    expect(await reconcile({}, jobContext(deps), deps)).toMatchObject({ scheduledStarted: 1 });
    await waitFor('the campaign sent', async () => (await campaign(res.body.campaignId)).status === 'sent');

    expect(await deliveriesByStatus(stack.web.db, res.body.campaignId)).toEqual({ sent: 2 });
    expect(await campaign(res.body.campaignId)).toMatchObject({ recipientCount: 2 });
    const late = stack.sink.inbox.findByRecipient('late@example.com').filter((m) => m.subject === 'Hello Late');
    expect(late).toHaveLength(1);
    expect(late[0]!.html).toContain('Dear Late, this goes to late@example.com.');
    expect(stack.sink.inbox.findByRecipient('leaving@example.com')).toHaveLength(0);

    const after = await admin(stack.web.app).get(res.body.links.tasks).expect(200);
    expect(after.body.tasks.map((task: { email: string }) => task.email).sort()).toEqual(['early@example.com', 'late@example.com']);
  });

  it('starts once however many reconcilers race for it', async () => {
    await seedSubscribers(stack.web.db, [{ email: 'a@example.com' }, { email: 'b@example.com' }]);
    const res = await postSend(stack.web.app, { ...campaignBody, sendAt: inTenDays() }).expect(202);
    await makeDue(res.body.campaignId);
    const runs = await Promise.all([1, 2, 3].map(() => {
      const deps = stack.workerDeps();
      return reconcile({}, jobContext(deps), deps);
    }));
    expect(runs.reduce((sum, run) => sum + run.scheduledStarted, 0)).toBe(1);
    expect(await stack.web.db.delivery.count({ where: { campaignId: res.body.campaignId } })).toBe(2);
  });

  it('finishes at once when nobody is subscribed at the start', async () => {
    const res = await postSend(stack.web.app, { ...campaignBody, sendAt: inTenDays() }).expect(202);
    await makeDue(res.body.campaignId);
    const deps = stack.workerDeps();
    await reconcile({}, jobContext(deps), deps);
    expect(await campaign(res.body.campaignId)).toMatchObject({ status: 'sent', recipientCount: 0 });
  });

  it('can be edited before it starts, and not after', async () => {
    await seedSubscribers(stack.web.db, [{ email: 'ann@example.com', name: 'Ann' }]);
    await stack.startWorker();
    const res = await postSend(stack.web.app, { ...campaignBody, sendAt: inTenDays() }).expect(202);
    const id = res.body.campaignId;

    const edited = await admin(stack.web.app)
      .patch(`/campaigns/${id}`)
      .send({ subject: 'Edited for {{name}}', body: '# Edited\n\nHello **{{name}}**', format: 'markdown', inArchive: false })
      .expect(200);
    expect(edited.body).toMatchObject({ id, status: 'scheduled', subject: 'Edited for {{name}}', format: 'markdown', inArchive: false });
    const moved = new Date(Date.now() + 3 * 24 * 60 * 60 * 1000);
    await admin(stack.web.app).patch(`/campaigns/${id}`).send({ sendAt: moved.toISOString() }).expect(200);
    expect(await campaign(id)).toMatchObject({ sendAt: moved, html: '# Edited\n\nHello **{{name}}**' });

    await makeDue(id);
    const deps = stack.workerDeps();
    await reconcile({}, jobContext(deps), deps);
    const message = await waitFor('the edited issue', () => stack.sink.inbox.findByRecipient('ann@example.com')[0]);
    expect(message.subject).toBe('Edited for Ann');
    expect(withoutInlineStyles(message.html!)).toContain('<h1>Edited</h1>\n<p>Hello <strong>Ann</strong></p>');

    const late = await admin(stack.web.app).patch(`/campaigns/${id}`).send({ subject: 'Too late' });
    expect(late.status).toBe(409);
    expect(late.body.error).toMatchObject({ code: 'invalid_state' });
    expect((await campaign(id)).subject).toBe('Edited for {{name}}');
  });

  it('refuses edits that are not valid with 400 naming the field, changing nothing', async () => {
    const res = await postSend(stack.web.app, { ...campaignBody, sendAt: inTenDays() }).expect(202);
    const id = res.body.campaignId;
    const cases: [object, string][] = [
      [{ subject: 'two\nlines' }, 'subject'],
      [{ format: 'pdf' }, 'format'],
      [{ sendAt: '2020-01-01T00:00:00Z' }, 'sendAt'],
      [{ sendAt: new Date(Date.now() + 400 * 24 * 60 * 60 * 1000).toISOString() }, 'sendAt'],
      [{ inArchive: 'yes' }, 'inArchive'],
      [{ body: '' }, 'body'],
      [{ status: 'sent' }, 'status'],
    ];
    for (const [body, field] of cases) {
      const answer = await admin(stack.web.app).patch(`/campaigns/${id}`).send(body).expect(400);
      expect(answer.body.error.fields).toHaveProperty(field);
    }
    const empty = await admin(stack.web.app).patch(`/campaigns/${id}`).send({}).expect(400);
    expect(empty.body.error.message).toMatch(/at least one field/);
    await admin(stack.web.app).patch(`/campaigns/${id}`).set('Content-Type', 'text/plain').send('subject=x').expect(415);
    await admin(stack.web.app).patch(`/campaigns/${id}`).set('Content-Type', 'application/json').send('{"subject":').expect(400);
    await admin(stack.web.app).patch('/campaigns/not-an-id').send({ subject: 'x' }).expect(404);
    await admin(stack.web.app).patch('/campaigns/00000000-0000-4000-8000-000000000000').send({ subject: 'x' }).expect(404);
    await request(stack.web.app).patch(`/campaigns/${id}`).send({ subject: 'x' }).expect(401);
    expect(await campaign(id)).toMatchObject({ subject: campaignBody.subject, html: campaignBody.body, status: 'scheduled' });
  });

  it('refuses to edit a campaign that is already sending', async () => {
    await seedSubscribers(stack.web.db, [{ email: 'a@example.com' }]);
    const res = await postSend(stack.web.app).expect(202);
    const answer = await admin(stack.web.app).patch(`/campaigns/${res.body.campaignId}`).send({ subject: 'x' }).expect(409);
    expect(answer.body.error.message).toMatch(/only a scheduled campaign that has not started/);
  });

  it('sends nothing once cancelled before it starts', async () => {
    await seedSubscribers(stack.web.db, [{ email: 'a@example.com' }]);
    const res = await postSend(stack.web.app, { ...campaignBody, sendAt: inTenDays() }).expect(202);
    await admin(stack.web.app).post(`/campaigns/${res.body.campaignId}/cancel`).expect(200);
    await makeDue(res.body.campaignId);
    const deps = stack.workerDeps();
    expect(await reconcile({}, jobContext(deps), deps)).toMatchObject({ scheduledStarted: 0 });
    expect(await campaign(res.body.campaignId)).toMatchObject({ status: 'cancelled', startedAt: null });
    expect(await stack.web.db.delivery.count()).toBe(0);
  });

  it('paused before its time and resumed after it, starts then with the audience of that moment', async () => {
    await seedSubscribers(stack.web.db, [{ email: 'a@example.com' }]);
    await stack.startWorker();
    const res = await postSend(stack.web.app, { ...campaignBody, sendAt: inTenDays() }).expect(202);
    const id = res.body.campaignId;
    await admin(stack.web.app).post(`/campaigns/${id}/pause`).expect(200);
    await admin(stack.web.app).patch(`/campaigns/${id}`).send({ subject: 'Paused, then edited' }).expect(200);
    await makeDue(id);
    await seedSubscribers(stack.web.db, [{ email: 'b@example.com' }]);

    const resumed = await admin(stack.web.app).post(`/campaigns/${id}/resume`).expect(200);
    expect(resumed.body.status).toBe('sending');
    await waitFor('the campaign sent', async () => (await campaign(id)).status === 'sent');
    expect(await deliveriesByStatus(stack.web.db, id)).toEqual({ sent: 2 });
    expect(stack.sink.inbox.list().map((m) => m.subject)).toEqual(['Paused, then edited', 'Paused, then edited']);
  });

  it('paused and resumed before its time, stays scheduled with no audience yet', async () => {
    await seedSubscribers(stack.web.db, [{ email: 'a@example.com' }]);
    const res = await postSend(stack.web.app, { ...campaignBody, sendAt: inTenDays() }).expect(202);
    await admin(stack.web.app).post(`/campaigns/${res.body.campaignId}/pause`).expect(200);
    const resumed = await admin(stack.web.app).post(`/campaigns/${res.body.campaignId}/resume`).expect(200);
    expect(resumed.body.status).toBe('scheduled');
    expect(await stack.web.db.delivery.count()).toBe(0);
  });
});
