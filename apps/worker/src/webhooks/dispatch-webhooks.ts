import { enqueueJobs, jobs } from '@herald/shared';
import type { WorkerDeps } from '../deps.js';
import { takeDueDeliveries } from './webhook-deliveries.js';

/** Due attempts given jobs per round; a round that fills it goes straight on to the next. */
const roundSize = 1_000;

/**
 * Gives every due webhook attempt a job: the deliveries are in Postgres (written with the change
 * they report), the jobs only carry them. Returns how many were given one.
 */
export async function dispatchDueWebhooks(deps: Pick<WorkerDeps, 'db' | 'queues'>): Promise<number> {
  let dispatched = 0;
  for (;;) {
    const due = await takeDueDeliveries(deps.db, roundSize);
    await enqueueJobs(deps.queues, jobs.deliverWebhook, due.map(({ id, attempts }) => ({ payload: { deliveryId: id, attempts }, key: undefined })));
    dispatched += due.length;
    if (due.length < roundSize) return dispatched;
  }
}

/**
 * Runs the dispatcher every WEBHOOK_DISPATCH_EVERY_MS in this worker process. Every worker process
 * runs one; their rounds take disjoint rows (takeDueDeliveries). An outage of Postgres or Redis is
 * logged once per run of failures and waited out.
 */
export function startWebhookDispatcher(deps: Pick<WorkerDeps, 'db' | 'queues' | 'logger' | 'config'>): { stop(): Promise<void> } {
  let stopped = false;
  let failing = false;
  let round: Promise<unknown> = Promise.resolve();
  const tick = async () => {
    try {
      await dispatchDueWebhooks(deps);
      if (failing) deps.logger.info('webhook dispatcher recovered');
      failing = false;
    } catch (err) {
      if (!failing) deps.logger.warn({ err: (err as Error).message }, 'webhook dispatcher could not run; retrying');
      failing = true;
    }
  };
  const timer = setInterval(() => {
    if (stopped) return;
    round = round.then(tick);
  }, deps.config.webhooks.dispatchEveryMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await round;
    },
  };
}
