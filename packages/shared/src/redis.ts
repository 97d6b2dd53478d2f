import { Redis } from 'ioredis';

export { Redis };

/**
 * A connection for BullMQ workers: commands wait through a Redis restart instead of failing, as
 * blocking worker connections must (BullMQ requires `maxRetriesPerRequest: null` here).
 */
export function createWorkerConnection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true });
}

/**
 * A connection for producers in request paths: fail fast, so the web answers 503 while Redis is
 * down instead of holding requests open. A Redis that is up but does not answer (frozen, or cut off
 * mid-connection) fails every command after two seconds too: without the timeout a request waits
 * on it forever.
 */
export function createProducerConnection(url: string): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2_000,
    commandTimeout: 2_000,
    lazyConnect: true,
  });
}
