import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { redisUrl } from './services.js';

/** A BullMQ key prefix no other test file uses, so queues never see each other's jobs. */
export function uniqueQueuePrefix(): string {
  return `herald-test-${process.env.VITEST_POOL_ID ?? '0'}-${randomUUID().slice(0, 8)}`;
}

/** Deletes every key under a prefix (what a test left in Redis). */
export async function deleteKeys(prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    for await (const keys of redis.scanStream({ match: `${prefix}:*`, count: 500 })) {
      if ((keys as string[]).length > 0) await redis.unlink(...(keys as string[]));
    }
  } finally {
    redis.disconnect();
  }
}
