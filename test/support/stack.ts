import { afterAll, afterEach, beforeAll } from 'vitest';
import { truncateAll } from './database.js';
import { deleteKeys } from './redis.js';
import { randomUUID } from 'node:crypto';
import { closeQueues, createDb, createLogger, createPgPool, createQueues, createWorkerConnection, loadEmailLayout } from '@herald/shared';
import type { Db, Queues } from '@herald/shared';
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { startMailSink } from '../../apps/mail-sink/src/start.js';
import type { RunningMailSink } from '../../apps/mail-sink/src/start.js';
import { createCampaignFinisher } from '../../apps/worker/src/campaigns/campaign-finisher.js';
import type { CampaignFinisher } from '../../apps/worker/src/campaigns/campaign-finisher.js';
import { loadConfig } from '../../apps/worker/src/config.js';
import type { JobContext, WorkerDeps } from '../../apps/worker/src/deps.js';
import { createSendGridMailer } from '../../apps/worker/src/mail/sendgrid.js';
import { instrumentMailer } from '../../apps/worker/src/ops/instrument-mailer.js';
import { createWorkerMetrics } from '../../apps/worker/src/ops/worker-metrics.js';
import { scheduleReconciler, startWorkers } from '../../apps/worker/src/workers.js';
import type { Workers } from '../../apps/worker/src/workers.js';
import { redisUrl } from './services.js';
import { createWebHarness } from './web.js';
import type { WebHarness } from './web.js';

export const sendgridKey = 'SG.test-key';

export type Stack = {
  web: WebHarness;
  sink: RunningMailSink;
  /** Environment a worker process needs to join this stack. */
  workerEnv: Record<string, string>;
  /** Handler dependencies over this stack, for calling handlers directly. */
  workerDeps(env?: Record<string, string>): WorkerDeps;
  /** Starts in-process BullMQ workers (and the reconciler schedule) over this stack; `deps` are theirs. */
  startWorker(env?: Record<string, string>): Promise<Workers & { deps: WorkerDeps }>;
  /**
   * Back to a clean stack for the next test, far cheaper than a new one: stops every worker and
   * closes every connection opened since, resets the mail sink (faults, inbox, counts), deletes the
   * queues' keys and empties the tables.
   */
  reset(): Promise<void>;
  close(): Promise<void>;
};

/** Web app, mail sink and workers over one database and queue prefix: the whole send path. */
export async function createStack(webEnv: Record<string, string> = {}): Promise<Stack> {
  const web = await createWebHarness(webEnv);
  const sink = await startMailSink({ apiKey: sendgridKey });
  const workerEnv = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: web.config.databaseUrl,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: web.config.queuePrefix,
    PUBLIC_URL: web.config.publicUrl,
    NEWSLETTER_NAME: web.config.newsletterName,
    SENDGRID_API_KEY: sendgridKey,
    SENDGRID_API_URL: sink.url,
    SENDGRID_TIMEOUT_MS: '5000',
    MAIL_FROM: 'Herald Test <news@herald.test>',
    MAIL_POSTAL_ADDRESS: '1 Test Street, Testville',
    WORKER_CONCURRENCY: '5',
    SEND_RATE_PER_SECOND: '1000',
    SEND_RETRY_DELAY_MS: '50',
    SHUTDOWN_DEADLINE_SECONDS: '10',
    // Worker processes started from this stack listen for ops on a free port, never a fixed one.
    WORKER_HTTP_PORT: '0',
  };
  const opened: { db: Db; connection: Redis; queues: Queues; workers?: Workers; finisher?: CampaignFinisher }[] = [];

  const workerDeps = (env: Record<string, string> = {}): WorkerDeps => {
    const config = loadConfig({ ...workerEnv, ...env });
    const pool = createPgPool(config.databaseUrl, 10);
    const db = createDb(config.databaseUrl, { pool });
    const connection = createWorkerConnection(config.redisUrl);
    const queues = createQueues(connection, config.queuePrefix);
    opened.push({ db, connection, queues });
    // A registry of its own per deps, so each test reads only its own counters.
    const metrics = createWorkerMetrics(new Registry());
    const mailer = instrumentMailer(createSendGridMailer({ ...config.sendgrid, from: config.mail.from }), metrics);
    const emailLayout = loadEmailLayout(config.email.brand, config.email.layoutPath);
    const logger = createLogger({ name: 'worker', level: config.logLevel });
    const finisher = createCampaignFinisher(db, logger);
    opened.at(-1)!.finisher = finisher;
    return { config, db, pool, queues, mailer, emailLayout, metrics, logger, finisher };
  };

  return {
    web,
    sink,
    workerEnv,
    workerDeps,
    async startWorker(env = {}) {
      const deps = workerDeps(env);
      const workers = startWorkers(deps, opened.at(-1)!.connection);
      opened.at(-1)!.workers = workers;
      await scheduleReconciler(deps);
      return { ...workers, deps };
    },
    async reset() {
      await closeOpened();
      sink.faults.reset();
      sink.inbox.clear();
      sink.stats.reset();
      await deleteKeys(web.config.queuePrefix);
      await truncateAll(web.db);
    },
    async close() {
      await closeOpened();
      await sink.close();
      await web.close();
    },
  };

  async function closeOpened(): Promise<void> {
    for (const { db, connection, queues, workers, finisher } of opened.splice(0).reverse()) {
      await workers?.close();
      await finisher?.flush();
      await closeQueues(queues);
      connection.disconnect();
      await db.$disconnect();
    }
  }
}

/**
 * Registers the hooks for a test file over the whole stack: one stack for the file, reset after
 * each test. The returned object is filled in before the first test runs.
 */
export function useStack(webEnv: Record<string, string> = {}): Stack {
  const stack = {} as Stack;
  beforeAll(async () => {
    Object.assign(stack, await createStack(webEnv));
  });
  afterEach(async () => {
    await stack.reset();
  });
  afterAll(async () => {
    await stack.close?.();
  });
  return stack;
}

/** A job context for calling a handler directly, as the BullMQ adapter would on attempt `attempt`. */
export function jobContext(deps: WorkerDeps, overrides: Partial<JobContext> = {}): JobContext {
  return {
    log: deps.logger,
    attempt: 1,
    maxAttempts: 6,
    pauseQueue: async () => undefined,
    claimToken: `direct-${randomUUID()}/0`,
    ...overrides,
  };
}

/** Polls until `check` returns a truthy value, or fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T> | T, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
