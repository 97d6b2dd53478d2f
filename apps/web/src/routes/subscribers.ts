import { Router } from 'express';
import type { WebDeps } from '../deps.js';

/** The admin subscriber API: list, import, export, erase. */
export function subscriberRoutes(_deps: WebDeps): Router {
  return Router();
}
