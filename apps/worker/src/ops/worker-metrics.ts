import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The worker's Prometheus series, one registry per process (tests build their own). Handlers get
 * this object as `deps.metrics` and call the series directly; main.ts serves `registry` on the
 * ops listener. Add a series here, as a field, when a handler needs one.
 */
export function createWorkerMetrics(registry: Registry = new Registry()) {
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    sends: new Counter({
      name: 'herald_sends_total',
      help: 'Send jobs finished, by outcome: sent, skipped (nothing to send), paused (campaign paused), rate_limited (429, job waits), retrying (transient failure), failed (permanent).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    sendDuration: new Histogram({
      name: 'herald_send_duration_seconds',
      help: 'Time of one call to the mail provider, successful or not.',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    requestRecipients: new Histogram({
      name: 'herald_sendgrid_request_recipients',
      help: 'Recipients (personalizations) per call to the mail provider: how full the batches are (SEND_BATCH_SIZE, WORKER_CONCURRENCY).',
      buckets: [1, 2, 5, 10, 50, 100, 250, 500, 1000],
      registers: [registry],
    }),
    providerResponses: new Counter({
      name: 'herald_sendgrid_responses_total',
      help: 'Answers from SendGrid by status class: 2xx, 4xx, 5xx; network (no answer: timeout, reset, refused); refused (the client would not send).',
      labelNames: ['status_class'] as const,
      registers: [registry],
    }),
    rateLimitWaits: new Counter({
      name: 'herald_rate_limit_waits_total',
      help: 'Times SendGrid answered 429 and the send queue was held back.',
      registers: [registry],
    }),
    rateLimitWaitSeconds: new Counter({
      name: 'herald_rate_limit_wait_seconds_total',
      help: 'Total time the send queue was held back after 429s.',
      registers: [registry],
    }),
    confirmationsHeld: new Counter({
      name: 'herald_confirmations_held_total',
      help: 'Confirmation emails held back because SendGrid refused the credentials (401/403); each waits in its queue until the hold clears.',
      registers: [registry],
    }),
    welcomeEmails: new Counter({
      name: 'herald_welcome_emails_total',
      help: 'Welcome email jobs finished, by outcome: sent; skipped (the person left the list or everything, or is suppressed); not_claimed (another job had it, or it was done); rate_limited (429, job waits); held (credentials refused, queue held); retrying (transient failure); failed (permanent).',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    claimsLost: new Counter({
      name: 'herald_claims_lost_total',
      help: 'Send jobs whose claim found its delivery no longer queued (another job had it, it was done, or its campaign was not sending).',
      registers: [registry],
    }),
    eventsPruned: new Counter({
      name: 'herald_events_pruned_total',
      help: 'Raw SendGrid events deleted by the reconciler once older than EVENT_RETENTION_DAYS (the report aggregates stay).',
      registers: [registry],
    }),
    reconcilerRepairs: new Counter({
      name: 'herald_reconciler_repairs_total',
      help: 'Repairs made by the reconciler, by kind.',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
