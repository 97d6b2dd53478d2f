import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { queueNames } from './job-catalog.js';
import type { QueueKey, QueueName } from './job-catalog.js';
import type { Logger } from './logger.js';

export type Queues = Record<QueueKey, Queue>;

/**
 * Producer handles for every queue, sharing one connection. Connection trouble is logged once per
 * event through `logger` (BullMQ would otherwise print each reconnect attempt to stderr).
 */
export function createQueues(connection: Redis, prefix: string, logger?: Logger): Queues {
  const open = (name: QueueName) => {
    const queue = new Queue(name, { connection, prefix });
    if (logger) queue.on('error', (err) => logger.warn({ queue: name, err: err.message }, 'queue connection error'));
    return queue;
  };
  return {
    campaigns: open(queueNames.campaigns),
    sends: open(queueNames.sends),
    confirmations: open(queueNames.confirmations),
    events: open(queueNames.events),
    maintenance: open(queueNames.maintenance),
    testSends: open(queueNames.testSends),
    webhooks: open(queueNames.webhooks),
  };
}

export async function closeQueues(queues: Queues): Promise<void> {
  await Promise.all(Object.values(queues).map((queue) => queue.close()));
}
