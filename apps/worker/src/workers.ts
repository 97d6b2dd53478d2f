/**
 * Thin BullMQ adapters over the job catalog: one Worker per queue, dispatching each job on its
 * name to the handler of its own catalog entry (so a job is only ever parsed with its own schema),
 * with a child logger and its attempt number; BullMQ's own error semantics (retry,
 * UnrecoverableError, RateLimitError) do the rest.
 */
import { DelayedError, UnrecoverableError, Worker } from 'bullmq';
import type { Job, WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { enqueueJob, finishedSendJobs, jobs, queueNames } from '@herald/shared';
import type { AnyJobDefinition, JobCatalog, JobPayload, QueueKey } from '@herald/shared';
import type { WorkerConfig } from './config.js';
import type { JobContext, WorkerDeps } from './deps.js';
import { fanOut } from './handlers/fan-out.js';
import { processEvents } from './handlers/process-events.js';
import { reconcile } from './handlers/reconcile.js';
import { sendConfirmation } from './handlers/send-confirmation.js';
import { sendEmail } from './handlers/send-email.js';
import { sendInvitation } from './handlers/send-invitation.js';
import { countSendOutcome } from './ops/count-send-outcome.js';
import { sendTestEmail } from './handlers/send-test-email.js';
import { sendWelcome } from './handlers/send-welcome.js';
import { startWebhookDispatcher } from './webhooks/dispatch-webhooks.js';
import { deliverWebhook } from './handlers/deliver-webhook.js';

type Handler<J extends AnyJobDefinition> = (payload: JobPayload<J>, ctx: JobContext, deps: WorkerDeps) => Promise<unknown>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyHandler = (payload: any, ctx: JobContext, deps: WorkerDeps) => Promise<unknown>;

/** One handler per catalog entry; the type makes a missing one a compile error as well. */
export const jobHandlers: { [K in keyof JobCatalog]: Handler<JobCatalog[K]> } = {
  fanOut,
  sendEmail: (payload, ctx, deps) => {
    const run = () => countSendOutcome(deps.metrics, () => sendEmail(payload, ctx, deps));
    return deps.pressure ? deps.pressure.trackJob(run) : run();
  },
  sendConfirmation,
  sendWelcome,
  sendInvitation,
  reconcile,
  processEvents,
  sendTestEmail,
  deliverWebhook,
};

/**
 * BullMQ honours a queue-wide hold (Queue#rateLimit, after a 429 or a refused key) only on a queue
 * whose Worker has a limiter, so a queue without SEND_RATE_PER_SECOND gets one no sender reaches:
 * the hold works, and nothing else is capped.
 */
const uncapped = 1_000_000_000;

/** How each queue's Worker runs. */
function workerOptions(config: WorkerConfig): Record<QueueKey, Partial<WorkerOptions>> {
  const limiter = { max: config.sendRatePerSecond ?? uncapped, duration: 1_000 };
  return {
    // The limiter is global: all workers together stay under SEND_RATE_PER_SECOND when it is set.
    // A send whose worker died is re-run once its lock expires; allowing a few stalls keeps a job that
    // is caught by several crashes in a row on that fast path instead of failing it to the backstop.
    // BullMQ re-runs a dead worker's job at the second stalled check after its 30 s lock expires: with
    // checks every 15 s instead of 30, that is within 60 s of the death rather than up to 90.
    sends: { concurrency: config.concurrency, limiter, maxStalledCount: 5, stalledInterval: 15_000, ...finishedSendJobs },
    campaigns: { concurrency: 2 },
    // A limiter is what makes BullMQ honour a queue-wide hold (Queue#rateLimit) after a 429 or a
    // refused key; with SEND_RATE_PER_SECOND it also keeps confirmations under that rate of their own.
    confirmations: { concurrency: 5, limiter },
    events: { concurrency: 1 },
    maintenance: { concurrency: 1 },
    testSends: { concurrency: 2 },
    // Each job waits on someone else's server for up to WEBHOOK_TIMEOUT_MS: enough at once that one
    // slow endpoint does not hold up the others.
    webhooks: { concurrency: 20 },
  };
}

type Route = { job: AnyJobDefinition; handler: AnyHandler };

/**
 * Pairs every catalog entry with its handler, grouped by queue and keyed by job name. Throws,
 * naming each entry without a handler, so a worker never starts unable to run a job it may be given.
 */
export function routeJobs(
  catalog: Record<string, AnyJobDefinition>,
  handlers: Record<string, AnyHandler | undefined>,
): Map<QueueKey, Map<string, Route>> {
  const missing = Object.entries(catalog).filter(([key]) => typeof handlers[key] !== 'function');
  if (missing.length > 0) {
    const names = missing.map(([key, job]) => `${key} (job "${job.name}" on queue "${job.queue}")`).join(', ');
    throw new Error(`No handler for catalog entries: ${names}`);
  }
  const routes = new Map<QueueKey, Map<string, Route>>();
  for (const [key, job] of Object.entries(catalog)) {
    const byName = routes.get(job.queue) ?? new Map<string, Route>();
    if (byName.has(job.name)) throw new Error(`Two catalog entries share the job name "${job.name}" on queue "${job.queue}"`);
    byName.set(job.name, { job, handler: handlers[key]! });
    routes.set(job.queue, byName);
  }
  return routes;
}

function processor(queue: QueueKey, routes: Map<string, Route>, deps: WorkerDeps) {
  return async (job: Job, token?: string) => {
    const route = routes.get(job.name);
    if (!route) throw new UnrecoverableError(`No job named "${job.name}" on queue "${queueNames[queue]}"`);
    const parsed = route.job.schema.safeParse(job.data);
    // A malformed payload never becomes valid by retrying.
    if (!parsed.success) throw new UnrecoverableError(`Malformed "${job.name}" payload: ${parsed.error.message}`);
    const payload = parsed.data as object;
    const attempt = job.attemptsMade + 1;
    let log: JobContext['log'] | undefined;
    const ctx: JobContext = {
      // Made on first use: most sends log nothing, and a child logger serialises its bindings at once.
      get log() {
        return (log ??= deps.logger.child({ queue: queueNames[queue], job: job.name, jobId: job.id, attempt, ...payload }));
      },
      attempt,
      maxAttempts: job.opts.attempts ?? 1,
      claimToken: claimTokenOf(job),
      pauseQueue: async (ms) => {
        deps.metrics.rateLimitWaits.inc();
        deps.metrics.rateLimitWaitSeconds.inc(ms / 1000);
        // Queue-wide: every worker of every process holds back until the limit expires. The handle
        // is this Worker's own queue, taken by the same key (Worker#rateLimit is deprecated in BullMQ 6).
        await deps.queues[queue].rateLimit(ms);
      },
    };
    const outcome = await route.handler(payload, ctx, deps);
    if (isWaiting(outcome)) {
      // The same job runs again shortly, from where it got to; a delay uses up no attempt.
      await job.updateData({ ...job.data, after: outcome.after });
      await job.moveToDelayed(Date.now() + waitingStepMs, token);
      throw new DelayedError();
    }
    // Nothing reads a finished job's return value; one returned would be stored with each of them.
    return undefined;
  };
}

/**
 * Stable across the re-run of a stalled job: BullMQ counts an attempt in `attemptsMade` only when it
 * ends (completed, failed, retried), while a stalled run is moved back to wait with the count unchanged.
 */
export function claimTokenOf(job: Pick<Job, 'id' | 'attemptsMade'>): string {
  return `${job.id}/${job.attemptsMade}`;
}

/** How soon a handler that answered `waiting` (the fan-out, when the send window is full) runs again. */
const waitingStepMs = 200;

function isWaiting(outcome: unknown): outcome is { status: 'waiting'; after: string } {
  const candidate = outcome as { status?: unknown; after?: unknown } | null;
  return candidate?.status === 'waiting' && typeof candidate.after === 'string';
}

export type Workers = { close(): Promise<void> };

export type WorkerCatalog = {
  catalog: Record<string, AnyJobDefinition>;
  handlers: Record<string, AnyHandler | undefined>;
};

/**
 * Starts one BullMQ worker per queue that has catalog entries; each opens its own blocking
 * connection from `connection`. Refuses to start (throws before any Worker exists) if an entry has
 * no handler.
 */
export function startWorkers(
  deps: WorkerDeps,
  connection: Redis,
  { catalog, handlers }: WorkerCatalog = { catalog: jobs, handlers: jobHandlers },
): Workers {
  const { config, logger } = deps;
  const routes = routeJobs(catalog, handlers);
  const options = workerOptions(config);
  const workers = [...routes].map(([queue, byName]) => {
    const name = queueNames[queue];
    const worker = new Worker(name, processor(queue, byName, deps), { connection, prefix: config.queuePrefix, ...options[queue] });
    worker.on('failed', (job, err) =>
      logger.warn({ queue: name, job: job?.name, jobId: job?.id, attempt: job?.attemptsMade, err: err.message }, 'job failed'),
    );
    worker.on('error', (err) => logger.error({ queue: name, err }, 'worker error'));
    return worker;
  });
  // Webhook attempts are scheduled in Postgres; the dispatcher gives the due ones their jobs.
  const dispatcher = routes.has('webhooks') ? startWebhookDispatcher(deps) : undefined;

  return {
    /** Stops taking jobs and waits for the ones in flight. */
    async close() {
      await dispatcher?.stop();
      await Promise.all(workers.map((worker) => worker.close()));
    },
  };
}

/** Every RECONCILE_EVERY_SECONDS, plus once now, so a restarted worker repairs at once. */
export async function scheduleReconciler(deps: WorkerDeps): Promise<void> {
  const { queues, config } = deps;
  await queues[jobs.reconcile.queue].upsertJobScheduler(
    jobs.reconcile.name,
    { every: config.reconcileEveryMs },
    { name: jobs.reconcile.name, data: {}, opts: jobs.reconcile.options },
  );
  await enqueueJob(queues, jobs.reconcile, {});
}

/**
 * The reconciler's schedule lives in Redis, so it goes with Redis's data, and the reconciler is what
 * repairs the loss: self-repair cannot depend on the store being repaired. Each worker process checks
 * every RECONCILE_EVERY_SECONDS that the schedule exists and, if not, puts it back and reconciles at
 * once. Errors (Redis still down) are logged and the next tick tries again.
 */
export function keepReconcilerScheduled(deps: WorkerDeps): { stop(): void } {
  const { queues, config, logger } = deps;
  let running = false;
  const check = async () => {
    if (running) return;
    running = true;
    try {
      if (!(await queues[jobs.reconcile.queue].getJobScheduler(jobs.reconcile.name))) {
        logger.warn({ everyMs: config.reconcileEveryMs }, 'reconciler schedule missing from Redis; restoring it');
        await scheduleReconciler(deps);
      }
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'could not check the reconciler schedule');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void check(), config.reconcileEveryMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
