import { enqueueEventProcessing } from '@herald/shared';
import type { Logger } from '@herald/shared';
import type { Queue } from 'bullmq';

/** SendGrid waits for our answer; Redis gets this long before the webhook answers without it. */
const enqueueWaitMs = 2_000;

/**
 * Asks a worker to apply newly stored events. Never throws and never holds the answer up for long:
 * the events are already in Postgres, and the reconciler queues their processing if this job never
 * reaches Redis. Redis that was down when the process started makes BullMQ wait instead of fail,
 * hence the bound.
 */
export async function requestEventProcessing(queue: Queue, log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const enqueued = enqueueEventProcessing(queue).then(
    () => 'enqueued' as const,
    (err: unknown) => {
      log.warn({ err }, 'event processing not enqueued; the reconciler will queue it');
      return 'failed' as const;
    },
  );
  const waited = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), enqueueWaitMs);
  });
  const outcome = await Promise.race([enqueued, waited]);
  clearTimeout(timer);
  if (outcome === 'timeout') log.warn({ waitedMs: enqueueWaitMs }, 'event processing not enqueued in time; the reconciler will queue it');
}
