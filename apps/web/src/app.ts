import { fileURLToPath } from 'node:url';
import express from 'express';
import helmet from 'helmet';
import type { Express } from 'express';
import type { WebDeps } from './deps.js';
import { errorHandler, handleNotFound } from './http/error-handler.js';
import { createMetrics } from './http/metrics.js';
import { requestLogger } from './http/request-logger.js';
import { adminRoutes } from './routes/admin.js';
import { archiveRoutes } from './routes/archive.js';
import { auditRoutes } from './routes/audit.js';
import { campaignRoutes } from './routes/campaigns.js';
import { reportRoutes } from './routes/reports.js';
import { campaignUnsubscribeRoutes } from './routes/campaign-unsubscribe-pages.js';
import { healthRoutes } from './routes/health.js';
import { listRoutes } from './routes/lists.js';
import { openApiRoutes } from './routes/openapi.js';
import { sendRoutes } from './routes/send.js';
import { segmentRoutes } from './routes/segments.js';
import { webhookEndpointRoutes } from './routes/webhook-endpoints.js';
import { signupRoutes } from './routes/signup.js';
import { subscriberRoutes } from './routes/subscribers.js';
import { subscriptionPageRoutes } from './routes/subscription-pages.js';
import { userRoutes } from './routes/users.js';
import { tokenRoutes } from './routes/tokens.js';
import { webhookRoutes } from './routes/webhooks.js';

export const viewsDir = fileURLToPath(new URL('../views', import.meta.url));
const publicDir = fileURLToPath(new URL('../public', import.meta.url));

/** Builds the whole HTTP surface. It never listens: main.ts does, and tests drive it with supertest. */
export function createApp(deps: WebDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // req.ip, which the auth throttle counts, comes from X-Forwarded-For only through these proxies.
  app.set('trust proxy', deps.config.trustProxy);
  app.set('view engine', 'ejs');
  app.set('views', viewsDir);
  app.locals.productName = 'Herald';
  app.locals.newsletterName = deps.config.newsletterName;

  const metrics = createMetrics(deps.queues, deps.config.metricsToken);
  app.use(requestLogger(deps.logger));
  app.use(metrics.observe);
  app.use(helmet());
  app.use('/static', express.static(publicDir, { maxAge: '1h', index: false }));

  app.use(healthRoutes(deps));
  app.use(metrics.router);
  app.use(openApiRoutes(deps));
  app.use(signupRoutes(deps));
  app.use(subscriptionPageRoutes(deps));
  app.use(campaignUnsubscribeRoutes(deps));
  app.use(archiveRoutes(deps));
  app.use(webhookRoutes(deps, { malformedEvents: metrics.webhookMalformedEvents }));
  app.use(sendRoutes(deps));
  app.use(campaignRoutes(deps));
  app.use(reportRoutes(deps));
  app.use(subscriberRoutes(deps));
  app.use(listRoutes(deps));
  app.use(segmentRoutes(deps));
  app.use(webhookEndpointRoutes(deps));
  app.use(userRoutes(deps));
  app.use(tokenRoutes(deps));
  app.use(auditRoutes(deps));
  app.use(adminRoutes(deps));

  app.use(handleNotFound);
  app.use(errorHandler({ redisDown: () => deps.redis.status !== 'ready' }));
  return app;
}
