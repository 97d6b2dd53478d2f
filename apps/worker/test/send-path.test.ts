import type { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { fanOut } from '../src/handlers/fan-out.js';
import { sendJobId } from '@herald/shared';
import { reconcile } from '../src/handlers/reconcile.js';
import { sendEmail } from '../src/handlers/send-email.js';
import { deleteKeys } from '../../../test/support/redis.js';
import { admin, campaignBody, deliveriesByStatus, postSend, seedSubscribers } from '../../../test/support/factories.js';
import { useStack, jobContext, waitFor } from '../../../test/support/stack.js';
import { withoutInlineStyles } from '../../../test/support/email-css.js';

const stack = useStack();

/** 3 active, 1 pending, 1 unsubscribed. */
async function seedMixedAudience() {
  return seedSubscribers(stack.web.db, [
    { email: 'ada@example.com', name: 'Ada <Lovelace>' },
    { email: 'grace@example.com', name: 'Grace' },
    { email: 'alan@example.com', name: null },
    { email: 'pending@example.com', status: 'pending' },
    { email: 'gone@example.com', status: 'unsubscribed' },
  ]);
}

async function waitUntilCampaign(campaignId: string, status: string) {
  return waitFor(`campaign ${status}`, async () => {
    const campaign = await stack.web.db.campaign.findUnique({ where: { id: campaignId } });
    return campaign?.status === status ? campaign : null;
  });
}

describe('sending a campaign', () => {
  it('sends exactly one personalised email per active subscriber, with unsubscribe headers and a text part', async () => {
    const subscribers = await seedMixedAudience();
    await stack.startWorker();
    const res = await postSend(stack.web.app).expect(202);
    expect(res.body.tasks).toHaveLength(3);
    expect(res.body.recipients).toBe(3);
    expect(res.body.links).toEqual({ campaign: `/campaigns/${res.body.campaignId}`, tasks: `/campaigns/${res.body.campaignId}/tasks` });

    await waitUntilCampaign(res.body.campaignId, 'sent');
    const messages = stack.sink.inbox.list();
    expect(messages.map((m) => m.recipients[0]).sort()).toEqual(['ada@example.com', 'alan@example.com', 'grace@example.com']);

    const ada = stack.sink.inbox.findByRecipient('ada@example.com')[0]!;
    const adaRow = subscribers.find((s) => s.email === 'ada@example.com')!;
    // The campaign's own link: it leaves the lists this campaign went to.
    const unsubscribeUrl = `http://herald.test/unsubscribe/${adaRow.unsubscribeToken}/c/${res.body.campaignId}`;
    expect(ada.subject).toBe('Hello Ada <Lovelace>');
    expect(ada.html).toContain('Dear Ada &lt;Lovelace&gt;, this goes to ada@example.com.');
    expect(withoutInlineStyles(ada.html!)).toContain(`<a href="${unsubscribeUrl}">Leave</a>`);
    expect(ada.html).toContain('1 Test Street, Testville');
    expect(ada.text).toContain('Dear Ada <Lovelace>, this goes to ada@example.com.');
    expect(ada.text).toContain(`Unsubscribe: ${unsubscribeUrl}`);
    const headers = ada.request.headers ?? ada.request.personalizations[0]?.headers ?? {};
    expect(headers['List-Unsubscribe']).toBe(`<${unsubscribeUrl}>`);
    expect(headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    expect(headers['List-Id']).toBe('"Newsletter" <newsletter.herald.test>');
    expect(ada.text).toContain(`Manage your subscriptions: http://herald.test/preferences/${adaRow.unsubscribeToken}`);
    expect(Object.keys(ada.customArgs)).toEqual(['herald_delivery_id']);
    expect(res.body.tasks).toContain(ada.customArgs.herald_delivery_id);

    for (const taskId of res.body.tasks as string[]) {
      const task = await admin(stack.web.app).get(`/tasks/${taskId}`).expect(200);
      expect(task.body).toMatchObject({ id: taskId, campaignId: res.body.campaignId, status: 'sent', attempts: 1, lastError: null });
      expect(task.body.providerMessageId).toEqual(expect.any(String));
      // Every recipient of one request shares its message id; this recipient's email is among them.
      expect(stack.sink.inbox.findByMessageId(task.body.providerMessageId).map((m) => m.recipients[0])).toContain(task.body.email);
    }
    const campaign = await admin(stack.web.app).get(`/campaigns/${res.body.campaignId}`).expect(200);
    expect(campaign.body).toMatchObject({ status: 'sent', total: 3, counts: { sent: 3, queued: 0, failed: 0 } });
  });

  it('treats an empty audience as a campaign that is sent at once with no tasks', async () => {
    const res = await postSend(stack.web.app).expect(202);
    expect(res.body).toMatchObject({ recipients: 0, tasks: [], status: 'sent' });
  });

  it('leaves out subscribers who sign up after the send', async () => {
    await seedSubscribers(stack.web.db, [{ email: 'early@example.com' }]);
    const res = await postSend(stack.web.app).expect(202);
    await seedSubscribers(stack.web.db, [{ email: 'late@example.com' }]);
    await stack.startWorker();
    await waitUntilCampaign(res.body.campaignId, 'sent');
    expect(stack.sink.inbox.list().map((m) => m.recipients[0])).toEqual(['early@example.com']);
  });
});

describe('sending once', () => {
  it('sends once when the same send job runs twice', async () => {
    await seedMixedAudience();
    const res = await postSend(stack.web.app).expect(202);
    const deps = stack.workerDeps();
    const deliveryId = res.body.tasks[0] as string;
    expect(await sendEmail({ deliveryId }, jobContext(deps), deps)).toBe('sent');
    expect(await sendEmail({ deliveryId }, jobContext(deps), deps)).toBe('skipped');
    expect(stack.sink.stats.get().requests).toBe(1);
  });

  it('sends once when two jobs for one delivery run at the same moment', async () => {
    await seedMixedAudience();
    const res = await postSend(stack.web.app).expect(202);
    const deps = stack.workerDeps();
    const deliveryId = res.body.tasks[0] as string;
    const outcomes = await Promise.all([1, 2, 3].map(() => sendEmail({ deliveryId }, jobContext(deps), deps)));
    expect(outcomes.sort()).toEqual(['sent', 'skipped', 'skipped']);
    expect(stack.sink.stats.get().requests).toBe(1);
  });

  it('enqueues nothing new when the fan-out runs twice', async () => {
    await seedMixedAudience();
    const res = await postSend(stack.web.app).expect(202);
    const deps = stack.workerDeps();
    expect(await fanOut({ campaignId: res.body.campaignId }, jobContext(deps), deps)).toEqual({ status: 'enqueued', deliveries: 3 });
    expect(await fanOut({ campaignId: res.body.campaignId }, jobContext(deps), deps)).toEqual({ status: 'enqueued', deliveries: 3 });
    expect(await deps.queues.sends.count()).toBe(3);
    await stack.startWorker();
    await waitUntilCampaign(res.body.campaignId, 'sent');
    expect(Object.values(stack.sink.stats.get().byRecipient)).toEqual([1, 1, 1]);
  });

  it('returns the first campaign for a repeated Idempotency-Key and refuses the key with another body', async () => {
    await seedMixedAudience();
    const first = await postSend(stack.web.app, campaignBody, { 'Idempotency-Key': 'issue-1' }).expect(202);
    const again = await postSend(stack.web.app, campaignBody, { 'Idempotency-Key': 'issue-1' }).expect(202);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(await stack.web.db.campaign.count()).toBe(1);
    expect(await stack.web.db.delivery.count()).toBe(3);

    const other = await postSend(stack.web.app, { ...campaignBody, subject: 'Different' }, { 'Idempotency-Key': 'issue-1' }).expect(422);
    expect(other.body.error.code).toBe('idempotency_key_reused');
    expect(await stack.web.db.campaign.count()).toBe(1);

    await stack.startWorker();
    await waitUntilCampaign(first.body.campaignId, 'sent');
    expect(Object.values(stack.sink.stats.get().byRecipient)).toEqual([1, 1, 1]);
  });
});

describe('provider failures', () => {
  it('waits out a 429 without failing anything, then sends everything once', async () => {
    await seedMixedAudience();
    stack.sink.faults.update({ rateLimit: { count: 2, retryAfterSeconds: 1 } });
    await stack.startWorker();
    const res = await postSend(stack.web.app).expect(202);
    const started = Date.now();
    await waitUntilCampaign(res.body.campaignId, 'sent');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    // However the three are batched, the first two requests are held back and nothing is sent twice.
    expect(stack.sink.stats.get().byStatus['429']).toBe(2);
    expect(stack.sink.stats.get().messages).toBe(3);
    expect(await deliveriesByStatus(stack.web.db, res.body.campaignId)).toEqual({ sent: 3 });
    expect(stack.sink.inbox.list()).toHaveLength(3);
  });

  it('retries 5xx with backoff and sends once, recording the attempts', async () => {
    await seedSubscribers(stack.web.db, [{ email: 'solo@example.com' }]);
    stack.sink.faults.update({ serverError: { count: 2, status: 503, body: 'html' } });
    await stack.startWorker();
    const res = await postSend(stack.web.app).expect(202);
    await waitUntilCampaign(res.body.campaignId, 'sent');
    const task = await admin(stack.web.app).get(`/tasks/${res.body.tasks[0]}`).expect(200);
    expect(task.body).toMatchObject({ status: 'sent', attempts: 3, lastError: null });
    expect(stack.sink.stats.get().byStatus).toEqual({ '503': 2, '202': 1 });
    expect(stack.sink.inbox.list()).toHaveLength(1);
  });

  it('marks a delivery failed with the reason after the last attempt', async () => {
    await seedSubscribers(stack.web.db, [{ email: 'solo@example.com' }]);
    stack.sink.faults.update({ serverError: { count: 100, status: 500 } });
    await stack.startWorker();
    const res = await postSend(stack.web.app).expect(202);
    await waitUntilCampaign(res.body.campaignId, 'sent');
    const task = await admin(stack.web.app).get(`/tasks/${res.body.tasks[0]}`).expect(200);
    expect(task.body).toMatchObject({ status: 'failed', attempts: 6 });
    expect(task.body.lastError).toMatch(/gave up after 6 attempts: SendGrid 500/);
    expect(stack.sink.stats.get().requests).toBe(6);
  });

  it('fails a rejected address after exactly one request and sends the others', async () => {
    await seedMixedAudience();
    stack.sink.faults.update({ rejectRecipients: ['grace@example.com'] });
    await stack.startWorker();
    const res = await postSend(stack.web.app).expect(202);
    await waitUntilCampaign(res.body.campaignId, 'sent');
    expect(stack.sink.stats.get().byRecipient['grace@example.com']).toBe(1);
    const failed = await admin(stack.web.app).get(`/campaigns/${res.body.campaignId}/tasks?status=failed`).expect(200);
    expect(failed.body.tasks).toHaveLength(1);
    expect(failed.body.tasks[0]).toMatchObject({ email: 'grace@example.com', attempts: 1 });
    expect(failed.body.tasks[0].lastError).toMatch(/^SendGrid 400: Does not contain a valid address/);
    expect(await deliveriesByStatus(stack.web.db, res.body.campaignId)).toEqual({ sent: 2, failed: 1 });
  });

  it('pauses the campaign with the reason when SendGrid refuses the key', async () => {
    await seedMixedAudience();
    stack.sink.faults.update({ revokedKey: true });
    await stack.startWorker();
    const res = await postSend(stack.web.app).expect(202);
    const campaign = await waitUntilCampaign(res.body.campaignId, 'paused');
    expect(campaign?.statusReason).toMatch(/SendGrid 401/);
    const shown = await admin(stack.web.app).get(`/campaigns/${res.body.campaignId}`).expect(200);
    expect(shown.body.statusReason).toMatch(/SendGrid refused the request/);
    await waitFor('in-flight sends to settle', async () => (await deliveriesByStatus(stack.web.db, res.body.campaignId)).queued === 3);
    expect(stack.sink.inbox.list()).toHaveLength(0);

    // Fix the key, resume: everyone gets it once.
    stack.sink.faults.reset();
    await admin(stack.web.app).post(`/campaigns/${res.body.campaignId}/resume`).expect(200);
    await waitUntilCampaign(res.body.campaignId, 'sent');
    expect(stack.sink.inbox.list()).toHaveLength(3);
  });
});

describe('recovery', () => {
  it('re-enqueues every recipient after Redis lost its jobs, and sends each exactly once', async () => {
    await seedMixedAudience();
    const res = await postSend(stack.web.app).expect(202);
    expect(await stack.web.queues.campaigns.count()).toBe(1);
    await deleteKeys(stack.web.config.queuePrefix);
    await stack.startWorker();
    await waitUntilCampaign(res.body.campaignId, 'sent');
    expect(stack.sink.inbox.list().map((m) => m.recipients[0]).sort()).toEqual([
      'ada@example.com',
      'alan@example.com',
      'grace@example.com',
    ]);
    expect(Object.values(stack.sink.stats.get().byRecipient)).toEqual([1, 1, 1]);
  });

  it('re-enqueues the one job Redis lost while the others are still waiting, and leaves a healthy queue alone', async () => {
    await seedMixedAudience();
    const res = await postSend(stack.web.app).expect(202);
    const deps = stack.workerDeps();
    await fanOut({ campaignId: res.body.campaignId }, jobContext(deps), deps);
    expect(await reconcile({}, jobContext(deps), deps)).toMatchObject({ requeued: 0 });

    const lost = res.body.tasks[1] as string;
    expect(await deps.queues.sends.remove(sendJobId(lost, 0))).toBe(1);
    expect(await reconcile({}, jobContext(deps), deps)).toMatchObject({ requeued: 1 });
    expect(await deps.queues.sends.count()).toBe(3);

    await stack.startWorker();
    await waitUntilCampaign(res.body.campaignId, 'sent');
    expect(Object.values(stack.sink.stats.get().byRecipient)).toEqual([1, 1, 1]);
  });

  it('sends again a delivery a crashed worker left in sending, and marks one SendGrid reported as sent', async () => {
    await seedMixedAudience();
    const res = await postSend(stack.web.app).expect(202);
    const [lost, accepted] = res.body.tasks as string[];
    const longAgo = new Date(Date.now() - 60 * 60 * 1000);
    await stack.web.db.delivery.updateMany({ where: { id: { in: [lost!, accepted!] } }, data: { status: 'sending', claimedAt: longAgo, attempts: 1 } });
    await stack.web.db.emailEvent.create({
      data: { dedupeKey: 'evt-1', type: 'processed', occurredAt: longAgo, deliveryId: accepted!, payload: {} },
    });
    const deps = stack.workerDeps();
    const report = await reconcile({}, jobContext(deps), deps);
    expect(report).toMatchObject({ stuckResent: 1, stuckMarkedSent: 1 });
    await stack.startWorker();
    await waitUntilCampaign(res.body.campaignId, 'sent');
    // The lost one and the third, still queued, once each; the accepted one not again.
    expect(Object.values(stack.sink.stats.get().byRecipient)).toEqual([1, 1]);
    const acceptedTask = await admin(stack.web.app).get(`/tasks/${accepted}`).expect(200);
    expect(acceptedTask.body.status).toBe('sent');
    expect(stack.sink.inbox.findByRecipient(acceptedTask.body.email)).toHaveLength(0);
  });
});

describe('campaign controls', () => {
  it('pause holds the queued deliveries and resume sends only what is left', async () => {
    await seedMixedAudience();
    const res = await postSend(stack.web.app).expect(202);
    const id = res.body.campaignId as string;
    const deps = stack.workerDeps();
    await fanOut({ campaignId: id }, jobContext(deps), deps);
    await sendEmail({ deliveryId: res.body.tasks[0] }, jobContext(deps), deps);
    const paused = await admin(stack.web.app).post(`/campaigns/${id}/pause`).expect(200);
    expect(paused.body).toMatchObject({ status: 'paused', counts: { sent: 1, queued: 2 } });

    await stack.startWorker();
    // The send jobs run while paused and leave their deliveries alone.
    await waitFor('send jobs to drain', () => sendJobsDrained(deps.queues.sends));
    expect(stack.sink.inbox.list()).toHaveLength(1);

    await admin(stack.web.app).post(`/campaigns/${id}/resume`).expect(200);
    await waitUntilCampaign(id, 'sent');
    expect(stack.sink.inbox.list()).toHaveLength(3);
    await admin(stack.web.app).post(`/campaigns/${id}/resume`).expect(409);
  });

  it('cancel turns queued deliveries into cancelled and sends nothing more', async () => {
    await seedMixedAudience();
    const res = await postSend(stack.web.app).expect(202);
    const deps = stack.workerDeps();
    await fanOut({ campaignId: res.body.campaignId }, jobContext(deps), deps);
    const cancelled = await admin(stack.web.app).post(`/campaigns/${res.body.campaignId}/cancel`).expect(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', counts: { cancelled: 3, queued: 0 } });
    await stack.startWorker();
    await waitFor('send jobs to drain', () => sendJobsDrained(deps.queues.sends));
    expect(stack.sink.stats.get().requests).toBe(0);
  });

  it('retry-failed sends the failed deliveries again and nothing else', async () => {
    await seedMixedAudience();
    stack.sink.faults.update({ rejectRecipients: ['alan@example.com'] });
    await stack.startWorker();
    const res = await postSend(stack.web.app).expect(202);
    await waitUntilCampaign(res.body.campaignId, 'sent');
    expect(await deliveriesByStatus(stack.web.db, res.body.campaignId)).toEqual({ sent: 2, failed: 1 });

    stack.sink.faults.reset();
    const retried = await admin(stack.web.app).post(`/campaigns/${res.body.campaignId}/retry-failed`).expect(200);
    expect(retried.body.status).toBe('sending');
    await waitUntilCampaign(res.body.campaignId, 'sent');
    expect(await deliveriesByStatus(stack.web.db, res.body.campaignId)).toEqual({ sent: 3 });
    expect(stack.sink.inbox.list().map((m) => m.recipients[0]).sort()).toEqual(['ada@example.com', 'alan@example.com', 'grace@example.com']);
  });

  it('sends a scheduled campaign when it is due, not before', async () => {
    await seedMixedAudience();
    const sendAt = new Date(Date.now() + 60 * 60 * 1000).toISOString();
    const res = await postSend(stack.web.app, { ...campaignBody, sendAt }).expect(202);
    expect(res.body.status).toBe('scheduled');
    const deps = stack.workerDeps();
    expect(await reconcile({}, jobContext(deps), deps)).toMatchObject({ scheduledStarted: 0 });
    // Its time comes: rather than wait for the clock, move the send time into the past.
    await stack.web.db.campaign.update({ where: { id: res.body.campaignId }, data: { sendAt: new Date(Date.now() - 1_000) } });
    await stack.startWorker();
    await waitUntilCampaign(res.body.campaignId, 'sent');
    expect(stack.sink.inbox.list()).toHaveLength(3);
  });
});

/** Every send job has run: completed ones are removed at once, so none is left waiting, running or delayed. */
async function sendJobsDrained(queue: Queue): Promise<boolean> {
  const counts = await queue.getJobCounts('waiting', 'active', 'delayed');
  return counts.waiting! + counts.active! + counts.delayed! === 0;
}
