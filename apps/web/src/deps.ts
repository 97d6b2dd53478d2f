import type { Db, EmailLayout, Logger, Queues } from '@herald/shared';
import type { Redis } from 'ioredis';
import type { WebConfig } from './config.js';
import type { WarmUp } from './readiness/warm-up.js';

/** Everything the web app needs, opened by main.ts (or a test) and passed in. */
export type WebDeps = {
  config: WebConfig;
  db: Db;
  redis: Redis;
  queues: Queues;
  logger: Logger;
  /** The layout the worker sends with, for previews and size checks of what subscribers will get. */
  emailLayout: EmailLayout;
  /** Started by main.ts before listening; /readyz waits for it. Absent: nothing to wait for. */
  warmUp?: WarmUp;
};
