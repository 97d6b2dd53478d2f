import { RateLimitError, UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { sendEmail } from '../src/handlers/send-email.js';
import type { SendOutcome } from '../src/handlers/send-email.js';
import type { WorkerDeps } from '../src/deps.js';
import { admin, deliveriesByStatus, postSend, seedSubscribers } from '../../../test/support/factories.js';
import { jobContext, useStack } from '../../../test/support/stack.js';

const stack = useStack();

const body = {
  subject: 'For {{name}} ({{email}})',
  body: '<h1>Hello {{name}}</h1><p>Written to {{email}}. <a href="{{unsubscribe_url}}">Leave</a> any time.</p>',
};

const audience = [
  { email: 'ada@example.com', name: 'Ada <Lovelace> & "friends"' },
  { email: 'bob@example.com', name: 'Bob $& $1 {{email}}' },
  { email: 'cy@example.com', name: null },
  { email: 'dee@example.com', name: "Dee O'Neil" },
  { email: 'eve@example.com', name: 'Eve' },
];

/** Runs every task's send job at the same moment, as a worker holding them all would. */
async function sendAll(deps: WorkerDeps, tasks: string[], pauseQueue = async (_ms: number) => undefined): Promise<PromiseSettledResult<SendOutcome>[]> {
  return Promise.allSettled(tasks.map((deliveryId) => sendEmail({ deliveryId }, jobContext(deps, { pauseQueue }), deps)));
}

async function task(id: string) {
  return (await admin(stack.web.app).get(`/tasks/${id}`).expect(200)).body;
}

describe('batched sends', () => {
  it('sends the jobs a worker holds at once in one request, each recipient getting exactly what a request of their own gives', async () => {
    await seedSubscribers(stack.web.db, audience);
    const batched = await postSend(stack.web.app, body).expect(202);
    const outcomes = await sendAll(stack.workerDeps(), batched.body.tasks);
    expect(outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : outcome.reason))).toEqual(Array(5).fill('sent'));
    expect(stack.sink.stats.get()).toMatchObject({ requests: 1, messages: 5 });
    const batchedMessages = stack.sink.inbox.list();

    const alone = await postSend(stack.web.app, body).expect(202);
    await sendAll(stack.workerDeps({ SEND_BATCH_SIZE: '1' }), alone.body.tasks);
    expect(stack.sink.stats.get()).toMatchObject({ requests: 6, messages: 10 });

    for (const { email } of audience) {
      const [fromBatch, ...others] = batchedMessages.filter((message) => message.recipients[0] === email);
      expect(others).toHaveLength(0);
      const single = stack.sink.inbox.findByRecipient(email).find((message) => message.id !== fromBatch!.id)!;
      // The issue's own address differs by campaign; nothing else may.
      const sameIssue = (text: string | null | undefined) => text?.replaceAll(batched.body.campaignId, alone.body.campaignId);
      expect(fromBatch!.subject).toBe(single.subject);
      expect(sameIssue(fromBatch!.html)).toBe(single.html);
      expect(sameIssue(fromBatch!.text)).toBe(single.text);
      expect(fromBatch!.request.personalizations[0]!.to).toEqual(single.request.personalizations[0]!.to);
      // The unsubscribe header names the campaign too.
      expect(JSON.parse(sameIssue(JSON.stringify(fromBatch!.headers))!)).toEqual(single.headers);
      expect(fromBatch!.html).not.toContain('%%herald_');
    }
    const ada = batchedMessages.find((message) => message.recipients[0] === 'ada@example.com')!;
    expect(ada.subject).toBe('For Ada <Lovelace> & "friends" (ada@example.com)');
    expect(ada.html).toContain('Hello Ada &lt;Lovelace&gt; &amp; &quot;friends&quot;');
    const bob = batchedMessages.find((message) => message.recipients[0] === 'bob@example.com')!;
    expect(bob.text).toContain('Bob $& $1 {{email}}');
    for (const id of batched.body.tasks as string[]) {
      const sent = await task(id);
      expect(sent).toMatchObject({ status: 'sent', attempts: 1 });
      expect(stack.sink.inbox.findByMessageId(sent.providerMessageId).map((message) => message.recipients[0])).toContain(sent.email);
    }
  });

  it('puts at most SEND_BATCH_SIZE recipients in a request', async () => {
    await seedSubscribers(stack.web.db, audience);
    const res = await postSend(stack.web.app, body).expect(202);
    await sendAll(stack.workerDeps({ SEND_BATCH_SIZE: '2' }), res.body.tasks);
    expect(stack.sink.stats.get()).toMatchObject({ requests: 3, messages: 5 });
    expect(await deliveriesByStatus(stack.web.db, res.body.campaignId)).toEqual({ sent: 5 });
  });

  it('fails every recipient SendGrid names in a refused batch after that one request, and sends the rest together', async () => {
    await seedSubscribers(stack.web.db, audience);
    stack.sink.faults.update({ rejectRecipients: ['bob@example.com', 'dee@example.com'] });
    const res = await postSend(stack.web.app, body).expect(202);
    await sendAll(stack.workerDeps(), res.body.tasks);
    expect(stack.sink.stats.get()).toMatchObject({ requests: 2, messages: 3 });
    expect(stack.sink.stats.get().byRecipient).toMatchObject({ 'bob@example.com': 1, 'dee@example.com': 1 });
    expect(await deliveriesByStatus(stack.web.db, res.body.campaignId)).toEqual({ sent: 3, failed: 2 });
  });

  it('fails only the recipient SendGrid names in a refused batch and sends the rest together', async () => {
    await seedSubscribers(stack.web.db, audience);
    stack.sink.faults.update({ rejectRecipients: ['cy@example.com'] });
    const res = await postSend(stack.web.app, body).expect(202);
    const outcomes = await sendAll(stack.workerDeps(), res.body.tasks);
    expect(outcomes.filter((outcome) => outcome.status === 'rejected').map((outcome) => (outcome as PromiseRejectedResult).reason)).toEqual([
      expect.any(UnrecoverableError),
    ]);
    expect(stack.sink.stats.get()).toMatchObject({ requests: 2, messages: 4 });
    expect(stack.sink.stats.get().byRecipient['cy@example.com']).toBe(1);
    const failed = await admin(stack.web.app).get(`/campaigns/${res.body.campaignId}/tasks?status=failed`).expect(200);
    expect(failed.body.tasks).toEqual([expect.objectContaining({ email: 'cy@example.com', attempts: 1 })]);
    expect(failed.body.tasks[0].lastError).toMatch(/^SendGrid 400: Does not contain a valid address/);
    // Every other recipient was in both requests: each request is an attempt.
    const sent = await admin(stack.web.app).get(`/campaigns/${res.body.campaignId}/tasks?status=sent`).expect(200);
    expect(sent.body.tasks.map((sentTask: { attempts: number }) => sentTask.attempts)).toEqual([2, 2, 2, 2]);
  });

  it('splits a refused batch that names nobody until the refused recipient is alone', async () => {
    await seedSubscribers(stack.web.db, audience);
    stack.sink.faults.update({ rejectRecipients: ['dee@example.com'], rejectUnnamed: true });
    const res = await postSend(stack.web.app, body).expect(202);
    await sendAll(stack.workerDeps(), res.body.tasks);
    expect(await deliveriesByStatus(stack.web.db, res.body.campaignId)).toEqual({ sent: 4, failed: 1 });
    const { byRecipient, requests } = stack.sink.stats.get();
    // Five recipients, halved: [5] → [3] [2] → [2] [1] → [1] [1]; dee is in one request of each level
    // until alone, 3 or 4 levels deep depending on where the batch put it, and is never sent again.
    expect(byRecipient['dee@example.com']).toBeGreaterThanOrEqual(3);
    expect(byRecipient['dee@example.com']).toBeLessThanOrEqual(4);
    expect(requests).toBeLessThanOrEqual(7);
    for (const email of ['ada@example.com', 'bob@example.com', 'cy@example.com', 'eve@example.com']) {
      expect(stack.sink.inbox.findByRecipient(email)).toHaveLength(1);
    }
  });

  it('holds the queue once for a rate-limited batch and uses no attempt, then sends each once', async () => {
    await seedSubscribers(stack.web.db, audience);
    stack.sink.faults.update({ rateLimit: { count: 1, retryAfterSeconds: 1 } });
    const res = await postSend(stack.web.app, body).expect(202);
    const deps = stack.workerDeps();
    const holds: number[] = [];
    const first = await sendAll(deps, res.body.tasks, async (ms: number) => void holds.push(ms));
    expect(first.every((outcome) => outcome.status === 'rejected' && outcome.reason instanceof RateLimitError)).toBe(true);
    expect(holds).toHaveLength(1);
    expect(holds[0]).toBeGreaterThanOrEqual(1_000);
    expect(await deliveriesByStatus(stack.web.db, res.body.campaignId)).toEqual({ queued: 5 });
    expect((await stack.web.db.delivery.findMany()).map((row) => row.attempts)).toEqual(Array(5).fill(0));

    await sendAll(deps, res.body.tasks);
    expect(await deliveriesByStatus(stack.web.db, res.body.campaignId)).toEqual({ sent: 5 });
    expect((await stack.web.db.delivery.findMany()).map((row) => row.attempts)).toEqual(Array(5).fill(1));
    expect(Object.values(stack.sink.stats.get().byRecipient)).toEqual(Array(5).fill(2));
    expect(stack.sink.stats.get().messages).toBe(5);
  });

  it('retries every recipient of a batch SendGrid failed with a 5xx', async () => {
    await seedSubscribers(stack.web.db, audience);
    stack.sink.faults.update({ serverError: { count: 1, status: 503 } });
    const res = await postSend(stack.web.app, body).expect(202);
    const deps = stack.workerDeps();
    const first = await sendAll(deps, res.body.tasks);
    expect(first.every((outcome) => outcome.status === 'rejected' && !(outcome.reason instanceof UnrecoverableError))).toBe(true);
    const queued = await stack.web.db.delivery.findMany();
    expect(queued.map((row) => [row.status, row.attempts])).toEqual(Array(5).fill(['queued', 1]));
    expect(queued[0]!.lastError).toMatch(/^SendGrid 503/);

    await sendAll(deps, res.body.tasks);
    expect(await deliveriesByStatus(stack.web.db, res.body.campaignId)).toEqual({ sent: 5 });
    expect(stack.sink.stats.get()).toMatchObject({ requests: 2, messages: 5 });
  });

  it('pauses the campaign when SendGrid refuses the key for a batch, and keeps every recipient queued', async () => {
    await seedSubscribers(stack.web.db, audience);
    stack.sink.faults.update({ revokedKey: true });
    const res = await postSend(stack.web.app, body).expect(202);
    const outcomes = await sendAll(stack.workerDeps(), res.body.tasks);
    expect(outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : 'threw'))).toEqual(Array(5).fill('paused'));
    expect(stack.sink.stats.get().requests).toBe(1);
    expect(await deliveriesByStatus(stack.web.db, res.body.campaignId)).toEqual({ queued: 5 });
    const campaign = await stack.web.db.campaign.findUniqueOrThrow({ where: { id: res.body.campaignId } });
    expect(campaign.status).toBe('paused');
    expect(campaign.statusReason).toMatch(/SendGrid 401/);
  });
});
