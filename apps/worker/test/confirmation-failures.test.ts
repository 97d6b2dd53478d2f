import { Writable } from 'node:stream';
import { pino } from 'pino';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Worker } from 'bullmq';
import { credentialHoldMs, sendConfirmation } from '../src/handlers/send-confirmation.js';
import type { WorkerDeps } from '../src/deps.js';
import { seedSubscribers } from '../../../test/support/factories.js';
import { createStack, jobContext, waitFor } from '../../../test/support/stack.js';
import type { Stack } from '../../../test/support/stack.js';
import { truncateAll } from '../../../test/support/database.js';
import { deleteKeys } from '../../../test/support/redis.js';

let stack: Stack;

beforeAll(async () => {
  stack = await createStack();
});
afterAll(async () => {
  await stack.close();
});
beforeEach(async () => {
  stack.sink.faults.reset();
  stack.sink.inbox.clear();
  stack.sink.stats.reset();
  await deleteKeys(stack.web.config.queuePrefix);
  await truncateAll(stack.web.db);
  await stack.web.db.$executeRaw`DELETE FROM mail_holds`;
});

/** Handler deps whose log lines are kept, to check what an operator would read. */
function depsWithLog(): { deps: WorkerDeps; lines: () => { level: number; msg: string; reason?: string }[] } {
  const out: string[] = [];
  const stream = new Writable({ write: (chunk: Buffer, _encoding, done) => (out.push(chunk.toString()), done()) });
  const base = stack.workerDeps();
  return { deps: { ...base, logger: pino({ level: 'info' }, stream) }, lines: () => out.map((line) => JSON.parse(line)) };
}

async function pendingSubscriber(email: string) {
  const [subscriber] = await seedSubscribers(stack.web.db, [{ email, status: 'pending' }]);
  // Nobody has been sent a confirmation yet, so the first job may send one.
  await stack.web.db.subscriber.update({ where: { id: subscriber!.id }, data: { confirmationSentAt: null } });
  return subscriber!;
}

describe('a confirmation email under a 429', () => {
  it('holds the whole confirmation queue until the reset, uses no attempt, and hands the window back', async () => {
    const subscriber = await pendingSubscriber('wait@example.com');
    stack.sink.faults.update({ rateLimit: { count: 1, retryAfterSeconds: 2 } });
    const { deps } = depsWithLog();
    const holds: number[] = [];
    const ctx = jobContext(deps, { pauseQueue: async (ms) => void holds.push(ms) });

    await expect(sendConfirmation({ subscriberId: subscriber.id }, ctx, deps)).rejects.toThrow(Worker.RateLimitError().message);
    expect(holds).toHaveLength(1);
    expect(holds[0]).toBeGreaterThanOrEqual(2_000);
    expect(holds[0]).toBeLessThan(3_000);
    // The ten-minute window is handed back, so the same job may send when it runs again.
    expect((await stack.web.db.subscriber.findUniqueOrThrow({ where: { id: subscriber.id } })).confirmationSentAt).toBeNull();

    expect(await sendConfirmation({ subscriberId: subscriber.id }, ctx, deps)).toBe('sent');
    expect(stack.sink.inbox.findByRecipient('wait@example.com')).toHaveLength(1);
  });

  it('is sent once after the wait by the running workers, the job finishing on its first attempt', async () => {
    stack.sink.faults.update({ rateLimit: { count: 1, retryAfterSeconds: 1 } });
    const workers = await stack.startWorker();
    try {
      await request(stack.web.app).post('/register').type('form').send({ email: 'later@example.com', name: 'Later' }).expect(200);
      await waitFor('the confirmation email', () => stack.sink.inbox.findByRecipient('later@example.com').length === 1);
      expect(stack.sink.stats.get().byStatus).toMatchObject({ '429': 1, '202': 1 });
      const deps = stack.workerDeps();
      const finished = await waitFor('the finished job', async () => (await deps.queues.confirmations.getJobs(['completed']))[0]);
      // A retry would have made this 2: the 429 did not count against the job.
      expect(finished.attemptsMade).toBe(1);
      expect(await deps.queues.confirmations.getJobCounts('failed')).toEqual({ failed: 0 });
    } finally {
      await workers.close();
    }
  });
});

describe('a confirmation email refused for the credentials (401)', () => {
  it('holds confirmations, surfacing the reason in Postgres, the log and a metric; none is lost; the next accepted email lifts the hold', async () => {
    const first = await pendingSubscriber('first@example.com');
    const second = await pendingSubscriber('second@example.com');
    stack.sink.faults.update({ revokedKey: true });
    const { deps, lines } = depsWithLog();
    const holds: number[] = [];
    const ctx = jobContext(deps, { pauseQueue: async (ms) => void holds.push(ms) });

    for (const subscriber of [first, second]) {
      await expect(sendConfirmation({ subscriberId: subscriber.id }, ctx, deps)).rejects.toThrow(Worker.RateLimitError().message);
    }
    expect(holds).toEqual([credentialHoldMs, credentialHoldMs]);
    const [hold] = await stack.web.db.mailHold.findMany();
    expect(hold).toMatchObject({ kind: 'confirmations', heldCount: 2 });
    expect(hold?.reason).toMatch(/SendGrid 401/);
    expect((await deps.metrics.confirmationsHeld.get()).values[0]?.value).toBe(2);
    const logged = lines().filter((line) => line.msg === 'confirmations held: SendGrid refused the credentials');
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatchObject({ level: 50 });
    expect(logged[0]?.reason).toMatch(/SendGrid 401/);
    // Both may still be sent: nothing was marked as sent, nothing failed.
    const rows = await stack.web.db.subscriber.findMany({ where: { id: { in: [first.id, second.id] } } });
    expect(rows.map((row) => row.confirmationSentAt)).toEqual([null, null]);

    stack.sink.faults.reset();
    expect(await sendConfirmation({ subscriberId: first.id }, ctx, deps)).toBe('sent');
    expect(await stack.web.db.mailHold.count()).toBe(0);
    expect(lines().some((line) => line.msg === 'mail hold released: SendGrid accepts again')).toBe(true);
  });

  it('keeps the job waiting in a held queue instead of failing it', async () => {
    stack.sink.faults.update({ revokedKey: true });
    const workers = await stack.startWorker();
    const deps = stack.workerDeps();
    try {
      await request(stack.web.app).post('/register').type('form').send({ email: 'held@example.com' }).expect(200);
      await waitFor('the hold', () => stack.web.db.mailHold.findUnique({ where: { kind: 'confirmations' } }));
      await waitFor('the queue to be held', async () => (await deps.queues.confirmations.getRateLimitTtl(1)) > 60_000);
      const counts = await deps.queues.confirmations.getJobCounts('waiting', 'active', 'failed', 'completed');
      expect(counts.failed).toBe(0);
      expect(counts.completed).toBe(0);
      expect((counts.waiting ?? 0) + (counts.active ?? 0)).toBe(1);
    } finally {
      await workers.close();
    }
  });
});
