import { closeQueues, createLogger, createProducerConnection, createQueues, loadEmailLayout } from '@herald/shared';
import type { SubscriberStatus } from '@herald/shared';
import type { Express } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createTestDatabase } from '../../../test/support/database.js';
import { campaignBody, postSend, seedSubscribers } from '../../../test/support/factories.js';
import { adminPassword, adminToken } from '../../../test/support/web.js';
import { deleteKeys, uniqueQueuePrefix } from '../../../test/support/redis.js';
import { redisUrl } from '../../../test/support/services.js';
import { jobContext, useStack } from '../../../test/support/stack.js';
import { reconcile } from '../../worker/src/handlers/reconcile.js';
import { sendConfirmation } from '../../worker/src/handlers/send-confirmation.js';
import { enqueueUnsentConfirmations } from '../../worker/src/subscribers/enqueue-unsent-confirmations.js';
import { checkAnswers } from '../../../test/support/api-description.js';

// Nothing listens on port 1: this web process never reaches Redis.
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let app: Express;
let close: () => Promise<void>;

beforeAll(async () => {
  database = await createTestDatabase();
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    DATABASE_URL: database.url,
    REDIS_URL: 'redis://127.0.0.1:1',
    ADMIN_TOKEN: adminToken,
    ADMIN_PASSWORD: adminPassword,
    SESSION_SECRET: 'test-session-secret-0123456789abcdef0123456789',
  });
  const redis = createProducerConnection(config.redisUrl);
  redis.on('error', () => undefined);
  const logger = createLogger({ name: 'web', level: 'silent' });
  const queues = createQueues(redis, 'outage', logger);
  app = checkAnswers(createApp({ config, db: database.db, redis, queues, logger, emailLayout: loadEmailLayout(config.email.brand) }));
  close = async () => {
    await closeQueues(queues).catch(() => undefined);
    redis.disconnect();
    await database.drop();
  };
});
afterAll(async () => {
  await close();
});

describe('with Redis down', () => {
  it('still takes signups and campaigns, since Postgres holds the work, and says not ready', async () => {
    const signup = await request(app).post('/register').send({ email: 'calm@example.com' });
    expect(signup.status).toBe(202);
    expect(await database.db.subscriber.count()).toBe(1);

    await seedSubscribers(database.db, [{ email: 'reader@example.com' }]);
    const started = Date.now();
    const sent = await postSend(app, campaignBody).expect(202);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(sent.body.tasks).toHaveLength(1);
    expect(await database.db.delivery.count()).toBe(1);

    const ready = await request(app).get('/readyz').expect(503);
    expect(ready.body.checks).toEqual({ database: 'ok', redis: 'down' });
  });

  it('owes the confirmation of someone signing up again, so the reconciler sends it once Redis is back', async () => {
    const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);
    const person = (email: string, status: SubscriberStatus, confirmationSentAt: Date) =>
      database.db.subscriber.create({ data: { email, status, consentAt: minutesAgo(60), consentSource: 'form', confirmationSentAt } });
    // Their first email went out long ago (the link may have expired), or they left and come back.
    const waiting = await person('again@example.com', 'pending', minutesAgo(30));
    const returning = await person('returning@example.com', 'unsubscribed', minutesAgo(60 * 24 * 30));
    // One was sent two minutes ago: signing up again inside the ten-minute window owes nothing more.
    const recent = await person('recent@example.com', 'pending', minutesAgo(2));

    // Each waits out the enqueue's two seconds before answering without Redis: all at once.
    const answers = await Promise.all(
      ['again@example.com', 'returning@example.com', 'recent@example.com'].map((email) => request(app).post('/register').type('form').send({ email })),
    );
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
    expect(await database.db.subscriber.findUnique({ where: { id: returning.id } })).toMatchObject({ status: 'pending' });

    // Redis is back: the reconciler's pass enqueues exactly what the signups were owed.
    const prefix = uniqueQueuePrefix();
    const redis = createProducerConnection(redisUrl);
    await redis.connect();
    const queues = createQueues(redis, prefix);
    try {
      await enqueueUnsentConfirmations(database.db, queues);
      const owed = (await queues.confirmations.getJobs(['waiting'])).map((job) => (job.data as { subscriberId: string }).subscriberId);
      expect(owed).toEqual(expect.arrayContaining([waiting.id, returning.id]));
      expect(owed).not.toContain(recent.id);
    } finally {
      await closeQueues(queues);
      redis.disconnect();
      await deleteKeys(prefix);
    }
  });
});

describe('a signup made while Redis is down, once Redis answers again', () => {
  // Postgres, a Redis that answers and a worker's dependencies; the web app below shares the
  // database and the queue prefix but was started with Redis unreachable.
  const stack = useStack();
  let outage: { app: Express; close(): Promise<void> };
  beforeAll(() => {
    const redis = createProducerConnection('redis://127.0.0.1:1');
    redis.on('error', () => undefined);
    const queues = createQueues(redis, stack.web.config.queuePrefix, stack.web.logger);
    outage = {
      app: checkAnswers(createApp({ ...stack.web, redis, queues })),
      close: async () => {
        await closeQueues(queues).catch(() => undefined);
        redis.disconnect();
      },
    };
  });
  afterAll(async () => {
    await outage.close();
  });

  it('is owed in Postgres, so the reconciler enqueues its confirmation and the email goes out', async () => {
    const answer = await request(outage.app).post('/register').type('form').send({ email: 'offline@example.com', name: 'Offline' });
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('Check your inbox');
    const subscriber = await stack.web.db.subscriber.findUniqueOrThrow({ where: { email: 'offline@example.com' } });
    expect(subscriber).toMatchObject({ status: 'pending', confirmationSentAt: null });
    expect(await stack.web.queues.confirmations.count()).toBe(0);

    const deps = stack.workerDeps();
    const report = await reconcile({}, jobContext(deps), deps);
    expect(report.confirmationsQueued).toBe(1);
    const queued = await deps.queues.confirmations.getJobs(['waiting']);
    expect(queued.map((job) => job.data)).toEqual([{ subscriberId: subscriber.id }]);
    // The job now stands for what is owed: the next pass adds no second one.
    expect((await reconcile({}, jobContext(deps), deps)).confirmationsQueued).toBe(0);

    expect(await sendConfirmation(queued[0]!.data, jobContext(deps), deps)).toBe('sent');
    expect(stack.sink.inbox.findByRecipient('offline@example.com')).toHaveLength(1);
  });
});
