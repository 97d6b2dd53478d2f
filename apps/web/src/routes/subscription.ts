import { Router } from 'express';
import type { WebDeps } from '../deps.js';

/** Public confirm and unsubscribe pages. */
export function subscriptionRoutes(_deps: WebDeps): Router {
  return Router();
}
