import express from 'express';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { handleErrors, handleNotFound } from '../../web/src/http/error-handler.js';
import { sendRoutes } from '../../web/src/routes/send.js';
import { truncateAll } from '../../../test/support/database.js';
import { admin, campaignBody, deliveriesByStatus, postSend, seedAudience } from '../../../test/support/factories.js';
import { createStack } from '../../../test/support/stack.js';
import type { Stack } from '../../../test/support/stack.js';
import type { Workers } from '../src/workers.js';

/**
 * Campaign actions against a campaign that workers are sending, and task ids read while statuses
 * change. Every assertion is read back from Postgres.
 */
let stack: Stack;
let workers: Workers | undefined;

beforeAll(async () => {
  stack = await createStack();
});
afterAll(async () => {
  await stack?.close();
});
beforeEach(async () => {
  await truncateAll(stack.web.db);
  stack.sink.faults.reset();
});
afterEach(async () => {
  stack.sink.faults.reset();
  await workers?.close();
  workers = undefined;
  await stack.web.queues.sends.obliterate({ force: true });
  await stack.web.queues.campaigns.obliterate({ force: true });
});

type Answer = { action: string; status: number; body: { status?: string; changed?: { requeued: number; cancelled: number }; error?: { code: string } } };

async function act(campaignId: string, action: string): Promise<Answer> {
  const res = await admin(stack.web.app).post(`/campaigns/${campaignId}/${action}`);
  return { action, status: res.status, body: res.body };
}

/** What each action leaves the campaign in when it succeeds. */
const targets: Record<string, string[]> = {
  pause: ['paused'],
  resume: ['sending', 'scheduled'],
  cancel: ['cancelled'],
  'retry-failed': ['sending', 'paused'],
};

function expectTruthful(answers: Answer[]) {
  for (const answer of answers) {
    if (answer.status === 200) {
      expect(targets[answer.action], JSON.stringify(answer)).toContain(answer.body.status);
      if (answer.action === 'retry-failed') expect(answer.body.changed!.requeued).toBeGreaterThan(0);
    } else {
      expect(answer.status, JSON.stringify(answer)).toBe(409);
      expect(answer.body.error?.code).toBe('invalid_state');
    }
  }
}

async function queuedOrSending(campaignId: string) {
  const counts = await deliveriesByStatus(stack.web.db, campaignId);
  return { queued: counts.queued ?? 0, sending: counts.sending ?? 0 };
}

describe('campaign actions racing a running send', () => {
  it('leave a cancelled campaign with nothing queued, and every answer says what it did', async () => {
    // Big and slow enough that the campaign is still sending when the cancel comes.
    await seedAudience(stack.web.db, 400);
    // Every tenth recipient is refused by SendGrid (400, failed), so retry-failed has work to race.
    stack.sink.faults.update({ latencyMs: 50, rejectRecipients: Array.from({ length: 40 }, (_, i) => `reader-${i * 10}@example.com`) });
    workers = await stack.startWorker({ WORKER_CONCURRENCY: '8' });
    const { body } = await postSend(stack.web.app).expect(202);
    const id = body.campaignId as string;
    await vi.waitFor(async () => expect((await deliveriesByStatus(stack.web.db, id)).failed ?? 0).toBeGreaterThan(0), { timeout: 30_000, interval: 50 });

    const answers: Answer[] = [];
    for (let round = 0; round < 4; round++) {
      const actions = ['pause', 'retry-failed', 'resume', 'retry-failed', 'pause', 'resume', 'retry-failed', 'resume'];
      answers.push(...(await Promise.all(actions.map((action) => act(id, action)))));
    }
    // The cancel races a burst of retries and resumes.
    const last = await Promise.all(['retry-failed', 'resume', 'cancel', 'retry-failed', 'retry-failed', 'resume', 'cancel'].map((action) => act(id, action)));
    answers.push(...last);
    expectTruthful(answers);
    // Exactly one cancel wins; the campaign it left is the campaign Postgres holds.
    const cancels = last.filter((answer) => answer.action === 'cancel' && answer.status === 200);
    expect(cancels).toHaveLength(1);
    expect((await stack.web.db.campaign.findUniqueOrThrow({ where: { id } })).status).toBe('cancelled');
    // Once the actions have answered, nothing is waiting to be sent...
    expect((await queuedOrSending(id)).queued).toBe(0);
    // ...and once the sends in flight have finished, nothing is in flight or requeued either.
    await vi.waitFor(async () => expect(await queuedOrSending(id)).toEqual({ queued: 0, sending: 0 }), { timeout: 30_000, interval: 100 });
    await vi.waitFor(async () => expect((await stack.web.queues.sends.getJobCounts('active')).active).toBe(0), { timeout: 30_000 });
    expect(await queuedOrSending(id)).toEqual({ queued: 0, sending: 0 });
    // The cancel's answer counts exactly the deliveries it cancelled.
    expect((await deliveriesByStatus(stack.web.db, id)).cancelled).toBe(cancels[0]!.body.changed!.cancelled);
  }, 90_000);

  it('a send that fails transiently after the cancel leaves its delivery cancelled, not queued', async () => {
    await seedAudience(stack.web.db, 6);
    // Every call hangs for a while, then fails with a 503: a transient failure, released for retry.
    stack.sink.faults.update({ latencyMs: 800, serverError: { count: 1_000, status: 503 } });
    workers = await stack.startWorker({ WORKER_CONCURRENCY: '6' });
    const { body } = await postSend(stack.web.app).expect(202);
    const id = body.campaignId as string;
    await vi.waitFor(async () => expect((await queuedOrSending(id)).sending).toBeGreaterThan(0), { timeout: 20_000, interval: 20 });

    const cancel = await act(id, 'cancel');
    expect(cancel.status).toBe(200);
    await vi.waitFor(async () => expect(await queuedOrSending(id)).toEqual({ queued: 0, sending: 0 }), { timeout: 20_000, interval: 50 });
    const counts = await deliveriesByStatus(stack.web.db, id);
    expect(counts).toEqual({ cancelled: 6 });
    // At least one send was in flight when the cancel committed, released by the worker afterwards.
    expect(cancel.body.changed!.cancelled).toBeLessThan(6);
  }, 60_000);

  it('a release that waits on a cancel in progress reads its outcome', async () => {
    await seedAudience(stack.web.db, 1);
    const { body } = await postSend(stack.web.app).expect(202);
    const id = body.campaignId as string;
    await stack.web.db.$executeRaw`UPDATE deliveries SET status = 'sending', claimed_at = now() WHERE campaign_id = ${id}::uuid`;

    const cancelling = new pg.Client({ connectionString: stack.web.config.databaseUrl });
    await cancelling.connect();
    try {
      await cancelling.query('BEGIN');
      await cancelling.query('SELECT id FROM campaigns WHERE id = $1 FOR UPDATE', [id]);
      await cancelling.query(`UPDATE campaigns SET status = 'cancelled' WHERE id = $1`, [id]);
      // The worker's release, while the cancel has not committed yet.
      // (A Prisma query starts only once something waits on it.)
      const release = stack.web.db.$executeRaw`
        UPDATE deliveries SET status = 'queued', claimed_at = NULL WHERE campaign_id = ${id}::uuid AND status = 'sending'`.then((n) => n);
      await vi.waitFor(async () => {
        const waiting = await cancelling.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`);
        expect(waiting.rows[0].n).toBe(1);
      });
      await cancelling.query('COMMIT');
      expect(await release).toBe(1);
    } finally {
      await cancelling.end();
    }
    expect(await deliveriesByStatus(stack.web.db, id)).toEqual({ cancelled: 1 });
  });
});

describe('task ids while workers send', () => {
  const pageSize = 20;
  const audience = 1_000;

  it('/send, its idempotent replay and the task pages list exactly the campaign\'s ids, each once', async () => {
    await seedAudience(stack.web.db, audience);
    // The real web app, writing its answer in chunks of 20 ids instead of 10,000, so it crosses 50 chunks.
    const app = express();
    app.use(sendRoutes(stack.web, { taskIdPageSize: pageSize }));
    app.use(handleNotFound);
    app.use(handleErrors);
    workers = await stack.startWorker({ WORKER_CONCURRENCY: '10' });

    const first = await postSend(app, campaignBody, { 'Idempotency-Key': 'ids-once' }).expect(202);
    const id = first.body.campaignId as string;
    const replay = await postSend(app, campaignBody, { 'Idempotency-Key': 'ids-once' }).expect(202);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    const paged: string[] = [];
    for (let cursor = ''; ; ) {
      const page = await admin(stack.web.app).get(`/campaigns/${id}/tasks?limit=${pageSize}${cursor ? `&cursor=${cursor}` : ''}`).expect(200);
      paged.push(...page.body.tasks.map((task: { id: string }) => task.id));
      if (!page.body.nextCursor) break;
      cursor = page.body.nextCursor;
    }
    // The worker really was changing statuses while the ids were read.
    const counts = await deliveriesByStatus(stack.web.db, id);
    expect(counts.sent ?? 0).toBeGreaterThan(0);

    const ids = (await stack.web.db.delivery.findMany({ where: { campaignId: id }, select: { id: true }, orderBy: { id: 'asc' } })).map((row) => row.id);
    expect(ids).toHaveLength(audience);
    for (const answer of [first.body.tasks as string[], replay.body.tasks as string[], paged]) {
      expect(answer).toHaveLength(audience);
      expect([...answer].sort()).toEqual(ids);
    }
  }, 90_000);
});
