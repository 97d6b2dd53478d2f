/**
 * Thin BullMQ adapters: parse the payload, give the handler a child logger and its attempt number,
 * and let BullMQ's own error semantics (retry, UnrecoverableError, RateLimitError) do the rest.
 */
import { DelayedError, Worker } from 'bullmq';
import type { Job, WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  enqueueReconcile,
  fanOutPayload,
  jobNames,
  processEventsPayload,
  queueNames,
  reconcileJobOptions,
  reconcilePayload,
  sendConfirmationPayload,
  sendEmailPayload,
} from '@herald/shared';
import type { QueueName } from '@herald/shared';
import type { z } from 'zod';
import type { JobContext, WorkerDeps } from './deps.js';
import { fanOut } from './handlers/fan-out.js';
import { processEvents } from './handlers/process-events.js';
import { reconcile } from './handlers/reconcile.js';
import { sendConfirmation } from './handlers/send-confirmation.js';
import { sendEmail } from './handlers/send-email.js';
import { countSendOutcome } from './ops/count-send-outcome.js';

type Handler<S extends z.ZodType> = (payload: z.output<S>, ctx: JobContext, deps: WorkerDeps) => Promise<unknown>;

function adapt<S extends z.ZodType>(
  queueName: QueueName,
  schema: S,
  handler: Handler<S>,
  deps: WorkerDeps,
) {
  const queue = Object.values(deps.queues).find((candidate) => candidate.name === queueName);
  return async (job: Job, token?: string) => {
    const payload = schema.parse(job.data);
    const attempt = job.attemptsMade + 1;
    const ctx: JobContext = {
      log: deps.logger.child({ queue: queueName, jobId: job.id, attempt, ...(payload as object) }),
      attempt,
      maxAttempts: job.opts.attempts ?? 1,
      claimToken: claimTokenOf(job),
      pauseQueue: async (ms) => {
        deps.metrics.rateLimitWaits.inc();
        deps.metrics.rateLimitWaitSeconds.inc(ms / 1000);
        // Queue-wide: every worker of every process holds back until the limit expires.
        await queue?.rateLimit(ms);
      },
    };
    const outcome = await handler(payload, ctx, deps);
    if (isWaiting(outcome)) {
      // The same job runs again shortly, from where it got to; a delay uses up no attempt.
      await job.updateData({ ...job.data, after: outcome.after });
      await job.moveToDelayed(Date.now() + waitingStepMs, token);
      throw new DelayedError();
    }
    return outcome;
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

/** Starts one BullMQ worker per queue. Each opens its own blocking connection from `connection`. */
export function startWorkers(deps: WorkerDeps, connection: Redis): Workers {
  const { config, logger } = deps;
  const workers: Worker[] = [];
  const start = <S extends z.ZodType>(name: QueueName, schema: S, handler: Handler<S>, options: Partial<WorkerOptions>) => {
    const worker = new Worker(name, adapt(name, schema, handler, deps), {
      connection,
      prefix: config.queuePrefix,
      ...options,
    });
    worker.on('failed', (job, err) =>
      logger.warn({ queue: name, jobId: job?.id, attempt: job?.attemptsMade, err: err.message }, 'job failed'),
    );
    worker.on('error', (err) => logger.error({ queue: name, err }, 'worker error'));
    workers.push(worker);
  };

  // The limiter is global: all workers together stay under SEND_RATE_PER_SECOND.
  // A send whose worker died is re-run once its lock expires; allowing a few stalls keeps a job that
  // is caught by several crashes in a row on that fast path instead of failing it to the backstop.
  const { pressure } = deps;
  const countedSendEmail: Handler<typeof sendEmailPayload> = (payload, ctx, handlerDeps) => {
    const run = () => countSendOutcome(handlerDeps.metrics, () => sendEmail(payload, ctx, handlerDeps));
    return pressure ? pressure.trackJob(run) : run();
  };
  start(queueNames.sends, sendEmailPayload, countedSendEmail, {
    concurrency: config.concurrency,
    limiter: { max: config.sendRatePerSecond, duration: 1_000 },
    maxStalledCount: 5,
  });
  start(queueNames.campaigns, fanOutPayload, fanOut, { concurrency: 2 });
  start(queueNames.confirmations, sendConfirmationPayload, sendConfirmation, { concurrency: 5 });
  start(queueNames.events, processEventsPayload, processEvents, { concurrency: 1 });
  start(queueNames.maintenance, reconcilePayload, reconcile, { concurrency: 1 });

  return {
    /** Stops taking jobs and waits for the ones in flight. */
    async close() {
      await Promise.all(workers.map((worker) => worker.close()));
    },
  };
}

/** Every RECONCILE_EVERY_SECONDS, plus once now, so a restarted worker repairs at once. */
export async function scheduleReconciler(deps: WorkerDeps): Promise<void> {
  const { queues, config } = deps;
  await queues.maintenance.upsertJobScheduler(
    jobNames.reconcile,
    { every: config.reconcileEveryMs },
    { name: jobNames.reconcile, data: {}, opts: reconcileJobOptions },
  );
  await enqueueReconcile(queues.maintenance);
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
      if (!(await queues.maintenance.getJobScheduler(jobNames.reconcile))) {
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
