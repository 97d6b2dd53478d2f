import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Router } from 'express';
import type { Queues } from '@herald/shared';

/**
 * bull-board over Herald's queues, read-only: its single-page app sends JSON requests without
 * Herald's CSRF token, and Postgres, not a queue dashboard, is where deliveries are changed.
 */
export function queueDashboard(queues: Queues, basePath: string): Router {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(basePath);
  createBullBoard({
    queues: Object.values(queues).map((queue) => new BullMQAdapter(queue, { readOnlyMode: true })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Herald queues' } },
  });
  return serverAdapter.getRouter() as Router;
}
