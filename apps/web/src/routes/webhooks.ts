import { Router } from 'express';
import type { WebDeps } from '../deps.js';

/** `POST /webhooks/sendgrid`: SendGrid's signed Event Webhook. */
export function webhookRoutes(_deps: WebDeps): Router {
  return Router();
}
