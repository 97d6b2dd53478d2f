import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Express, RequestHandler } from 'express';
import type { Queues } from '@herald/shared';
import { HttpError } from '../http/http-error.js';

/** Every path segment must decode, or the dashboard's own error handler answers with a bare 400. */
function decodesCleanly(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * bull-board over Herald's queues, read-only: its single-page app sends JSON requests without
 * Herald's CSRF token, and Postgres, not a queue dashboard, is where deliveries are changed.
 *
 * bull-board is an Express app of its own. Called from a Router (not mounted on an app) it swaps
 * the request's prototypes for its own and never restores them, so an error it passes on would be
 * rendered with its views ("Failed to lookup view"). This wrapper restores them, as Express does for
 * sub-apps mounted with app.use, so every error reaches Herald's handler and the admin layout.
 */
export function queueDashboard(queues: Queues, basePath: string): RequestHandler {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(basePath);
  createBullBoard({
    queues: Object.values(queues).map((queue) => new BullMQAdapter(queue, { readOnlyMode: true })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Herald queues' } },
  });
  const dashboard = serverAdapter.getRouter() as Express;
  dashboard.disable('x-powered-by');
  return (req, res, next) => {
    if (!decodesCleanly(req.path)) throw new HttpError(400, 'bad_request', 'That address is malformed.');
    const request = Object.getPrototypeOf(req) as object;
    const response = Object.getPrototypeOf(res) as object;
    dashboard(req, res, (err?: unknown) => {
      Object.setPrototypeOf(req, request);
      Object.setPrototypeOf(res, response);
      next(err);
    });
  };
}
