import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { queueNames } from './jobs.js';
import type { QueueName } from './jobs.js';

export type Queues = Record<keyof typeof queueNames, Queue>;

/** Producer handles for every queue, sharing one connection. */
export function createQueues(connection: Redis, prefix: string): Queues {
  const open = (name: QueueName) => new Queue(name, { connection, prefix });
  return {
    campaigns: open(queueNames.campaigns),
    sends: open(queueNames.sends),
    confirmations: open(queueNames.confirmations),
    events: open(queueNames.events),
    maintenance: open(queueNames.maintenance),
  };
}

export async function closeQueues(queues: Queues): Promise<void> {
  await Promise.all(Object.values(queues).map((queue) => queue.close()));
}
