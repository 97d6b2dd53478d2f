import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RequestHandler, Router } from 'express';
import { Router as createRouter } from 'express';
import { checkMetricsAccess } from '@herald/shared';
import type { Queues } from '@herald/shared';
import { HttpError } from './http-error.js';
import { authFailuresCounter } from './auth-throttle.js';

/** Test emails asked for from the compose page; they create no deliveries, so no other count has them. */
export const testEmailsCounter = new Counter({
  name: 'herald_admin_test_emails_total',
  help: 'Test emails of a campaign requested by an admin (sent by a worker on the test-sends queue).',
  registers: [],
});

const jobStates = ['waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed'] as const;

/**
 * Prometheus metrics for this web process: Node's defaults, HTTP requests by route, and the job
 * counts of every queue (read from Redis at scrape time, so any replica reports the same).
 */
export function createMetrics(queues: Queues, metricsToken: string | undefined) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  registry.registerMetric(authFailuresCounter);
  registry.registerMetric(testEmailsCounter);

  const requests = new Counter({
    name: 'herald_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'herald_http_request_duration_seconds',
    help: 'Time to answer HTTP requests, by route pattern.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
    registers: [registry],
  });
  new Gauge({
    name: 'herald_queue_jobs',
    help: 'Jobs in each BullMQ queue, by state.',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      for (const queue of Object.values(queues)) {
        const counts = await queue.getJobCounts(...jobStates);
        for (const state of jobStates) this.set({ queue: queue.name, state }, counts[state] ?? 0);
      }
    },
  });

  const webhookMalformedEvents = new Counter({
    name: 'herald_webhook_malformed_events_total',
    help: 'SendGrid webhook events that failed the event schema; kept in malformed_email_events.',
    registers: [registry],
  });

  /** Labels by the route pattern (`/tasks/:id`), never the raw path, so label sets stay few. */
  const observe: RequestHandler = (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      requests.inc({ method: req.method, route, status: String(res.statusCode) });
      duration.observe({ method: req.method, route }, Number(process.hrtime.bigint() - started) / 1e9);
    });
    next();
  };

  const router: Router = createRouter();
  // Scraped with `Authorization: Bearer $METRICS_TOKEN`; refused without it (see metrics-access.ts).
  router.get('/metrics', async (req, res) => {
    const access = checkMetricsAccess(req.get('authorization'), metricsToken);
    if (!access.allowed) {
      res.set(access.headers);
      throw new HttpError(access.status, access.code, access.message);
    }
    res.type(registry.contentType).send(await registry.metrics());
  });

  return { observe, router, webhookMalformedEvents };
}
