import { jobNames, sendEmailPayload, sendJobId, sendJobOptions } from '@herald/shared';
import type { Queue } from 'bullmq';

export type QueuedDelivery = { id: string; round: number };

/**
 * Adds one send job per delivery in a single round trip. Job ids are deterministic, so BullMQ
 * ignores a delivery whose job it already holds: enqueueing twice enqueues nothing new.
 */
export async function enqueueDeliveries(queue: Queue, deliveries: QueuedDelivery[], retryDelayMs: number): Promise<void> {
  if (deliveries.length === 0) return;
  await queue.addBulk(
    deliveries.map((delivery) => ({
      name: jobNames.sendEmail,
      data: sendEmailPayload.parse({ deliveryId: delivery.id }),
      opts: { ...sendJobOptions(retryDelayMs), jobId: sendJobId(delivery.id, delivery.round) },
    })),
  );
}
