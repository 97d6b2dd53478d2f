import { enqueueJobs, jobs } from '@herald/shared';
import type { Queues } from '@herald/shared';

export type QueuedDelivery = { id: string; round: number };

/**
 * Adds one send job per delivery in a single round trip. Job ids are deterministic, so BullMQ
 * ignores a delivery whose job it already holds: enqueueing twice enqueues nothing new.
 */
export async function enqueueDeliveries(queues: Queues, deliveries: QueuedDelivery[], retryDelayMs: number): Promise<void> {
  await enqueueJobs(
    queues,
    jobs.sendEmail,
    deliveries.map((delivery) => ({ payload: { deliveryId: delivery.id }, key: delivery.round })),
    { backoff: { type: 'exponential', delay: retryDelayMs, jitter: 1 } },
  );
}
