import { z } from 'zod';
import { checkNewsletterName, commonEnv, developmentNewsletterName, emailEnv, emailSettingsOf, parseEnv } from '@herald/shared';
import { findDisplayNameProblem, toDisplayName } from './mail/display-name.js';

const workerEnv = z.object({
  ...commonEnv,
  ...emailEnv,
  SENDGRID_API_KEY: z.string().min(1, 'is required (any value works against the mail sink)'),
  /** Unset: the local mail sink outside production, SendGrid in production (see sendgridApiUrl). */
  SENDGRID_API_URL: z.url({ protocol: /^https?$/ }).optional(),
  SENDGRID_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(120_000).default(15_000),
  MAIL_FROM: z.string().min(3, 'is required: an address, or "Name <address>"'),
  MAIL_POSTAL_ADDRESS: z.string().trim().max(500).optional(),
  /**
   * Send jobs one worker process holds at once. A batch is made of the send jobs of one campaign a
   * worker holds at once, so this bounds the batch. A job held costs a row in a batch, not a
   * connection; it also bounds the recipients in flight. 800, not SendGrid's 1,000 personalizations:
   * at 1,000 the worker's RSS peaked at 251 MB in one bench run of 1,000,000 recipients, past the
   * 250 MB it must stay under, and at 800 it peaked at 205 MB (`npm run bench`).
   */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(2_000).default(800),
  /**
   * Recipients per SendGrid request (one personalization each; SendGrid takes up to 1,000), up to
   * WORKER_CONCURRENCY. 1 sends one request per recipient.
   */
  SEND_BATCH_SIZE: z.coerce.number().int().min(1).max(1_000).default(800),
  /**
   * An opt-in cap on recipients per second across all workers, for warming up a sending domain or
   * IP. Unset: none of Herald's own. SendGrid publishes no per-second limit for Mail Send and answers
   * 429 with X-RateLimit-Reset when it wants a sender to wait, which holds every worker until then.
   */
  SEND_RATE_PER_SECOND: z.coerce.number().int().min(1).max(100_000).optional(),
  /**
   * Postgres connections per worker process. A send holds one only for its claim and its `sent`
   * mark, not during the SendGrid call, so a few serve hundreds of concurrent sends; every worker
   * process opens up to this many, and all of them must fit in Postgres's max_connections.
   */
  DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(500).default(20),
  /**
   * Send jobs kept waiting in Redis ahead of the workers, across all campaigns; the fan-out adds
   * more as they drain, so Redis holds this many, not the whole audience.
   */
  SEND_WINDOW: z.coerce.number().int().min(10).max(1_000_000).default(5_000),
  /** Base of the exponential backoff between retries of a failed send. */
  SEND_RETRY_DELAY_MS: z.coerce.number().int().min(10).max(600_000).default(2_000),
  /** A delivery still `sending` this long after its claim was abandoned by a dead worker. */
  STUCK_SENDING_AFTER_SECONDS: z.coerce.number().int().min(30).default(300),
  RECONCILE_EVERY_SECONDS: z.coerce.number().int().min(5).default(60),
  /**
   * Days raw SendGrid events are kept from when they were stored; the reconciler deletes older applied ones in bounded
   * batches. The report aggregates stay. Unset: raw events are kept for ever.
   */
  EVENT_RETENTION_DAYS: z.coerce.number().int().min(1).max(36_500).optional(),
  /** How long an outbound webhook endpoint has to answer, connection included. */
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  /** Base of the backoff between attempts at one webhook delivery (×4 each time, at most 6 h). */
  WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(10).max(3_600_000).default(5_000),
  /** Attempts at one webhook delivery before it is given up (about a day with the defaults). */
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(10),
  /** An endpoint whose every attempt has failed for this long is disabled, with the reason. */
  WEBHOOK_DISABLE_AFTER_SECONDS: z.coerce.number().int().min(1).default(24 * 60 * 60),
  /** How often each worker gives due webhook attempts a job. */
  WEBHOOK_DISPATCH_EVERY_MS: z.coerce.number().int().min(20).max(60_000).default(1_000),
  /** Days webhook events, their deliveries and attempts are kept; the reconciler deletes older ones. */
  WEBHOOK_RETENTION_DAYS: z.coerce.number().int().min(1).max(3_650).default(30),
  SHUTDOWN_DEADLINE_SECONDS: z.coerce.number().int().min(1).default(30),
  /** The ops listener: /healthz, /readyz, /metrics. 9464 is Prometheus's conventional exporter port. */
  WORKER_HTTP_PORT: z.coerce.number().int().min(0).max(65_535).default(9464),
  WORKER_HTTP_HOST: z.string().min(1).default('0.0.0.0'),
});

/** `Name <address>` or a bare address, as SendGrid's `from` object. */
function parseSender(value: string): { email: string; name?: string } | undefined {
  const match = /^\s*(?:"?([^"<]*?)"?\s*<([^<>\s]+@[^<>\s]+)>|([^<>\s]+@[^<>\s]+))\s*$/.exec(value);
  if (!match) return undefined;
  const email = match[2] ?? match[3];
  if (!email) return undefined;
  const name = match[1]?.trim();
  return name ? { email, name } : { email };
}

/** The newsletter's name as a default sender name, or nothing if nothing of it is acceptable. */
function toSender(newsletterName: string): { name?: string } {
  const name = toDisplayName(newsletterName);
  return name === undefined ? {} : { name };
}

/**
 * Where sends go when SENDGRID_API_URL is unset: a copied .env.example or a fresh checkout must
 * never mail real people through SendGrid, so outside production that is the local mail sink.
 */
function defaultSendgridApiUrl(nodeEnv: string): string {
  return nodeEnv === 'production' ? 'https://api.sendgrid.com' : 'http://localhost:3100';
}

export type WorkerConfig = ReturnType<typeof loadConfig>;

/** Reads the worker process's configuration once, at boot; throws listing every problem. */
export function loadConfig(env: Record<string, string | undefined> = process.env) {
  const parsed = parseEnv(
    workerEnv.superRefine((value, ctx) => {
      checkNewsletterName(value, ctx);
      const sender = parseSender(value.MAIL_FROM);
      if (!sender) {
        ctx.addIssue({ code: 'custom', path: ['MAIL_FROM'], message: 'must be an address, or "Name <address>"' });
        return;
      }
      const nameProblem = sender.name === undefined ? undefined : findDisplayNameProblem(sender.name);
      if (nameProblem) ctx.addIssue({ code: 'custom', path: ['MAIL_FROM'], message: nameProblem });
      // SendGrid: "Unicode encoding is not supported for the from field" (Mail Send limitations).
      if (/[^\x21-\x7e]/.test(sender.email)) {
        ctx.addIssue({ code: 'custom', path: ['MAIL_FROM'], message: 'the address must be plain ASCII (SendGrid does not accept Unicode in the from address)' });
      }
    }),
    env,
  );
  const newsletterName = parsed.NEWSLETTER_NAME ?? developmentNewsletterName;
  const postalAddress = parsed.MAIL_POSTAL_ADDRESS || undefined;
  return {
    env: parsed.NODE_ENV,
    logLevel: parsed.LOG_LEVEL,
    databaseUrl: parsed.DATABASE_URL,
    redisUrl: parsed.REDIS_URL,
    queuePrefix: parsed.QUEUE_PREFIX,
    publicUrl: parsed.PUBLIC_URL.replace(/\/+$/, ''),
    newsletterName,
    sendgrid: {
      apiKey: parsed.SENDGRID_API_KEY,
      apiUrl: (parsed.SENDGRID_API_URL ?? defaultSendgridApiUrl(parsed.NODE_ENV)).replace(/\/+$/, ''),
      timeoutMs: parsed.SENDGRID_TIMEOUT_MS,
    },
    mail: {
      // Without a display name of its own, mail comes from the newsletter: "Name <address>". MAIL_FROM's
      // own name was checked above; the newsletter's is made acceptable, as a recipient's would be.
      from: { ...toSender(newsletterName), ...(parseSender(parsed.MAIL_FROM) as { email: string; name?: string }) },
      postalAddress,
    },
    email: emailSettingsOf(parsed, { newsletterName, postalAddress }),
    concurrency: parsed.WORKER_CONCURRENCY,
    sendBatchSize: parsed.SEND_BATCH_SIZE,
    sendRatePerSecond: parsed.SEND_RATE_PER_SECOND,
    databasePoolSize: parsed.DATABASE_POOL_SIZE,
    sendWindow: parsed.SEND_WINDOW,
    sendRetryDelayMs: parsed.SEND_RETRY_DELAY_MS,
    stuckSendingAfterMs: parsed.STUCK_SENDING_AFTER_SECONDS * 1000,
    reconcileEveryMs: parsed.RECONCILE_EVERY_SECONDS * 1000,
    eventRetentionDays: parsed.EVENT_RETENTION_DAYS ?? null,
    webhooks: {
      allowPrivate: parsed.WEBHOOK_ALLOW_PRIVATE,
      timeoutMs: parsed.WEBHOOK_TIMEOUT_MS,
      retryBaseMs: parsed.WEBHOOK_RETRY_BASE_MS,
      maxAttempts: parsed.WEBHOOK_MAX_ATTEMPTS,
      disableAfterMs: parsed.WEBHOOK_DISABLE_AFTER_SECONDS * 1000,
      dispatchEveryMs: parsed.WEBHOOK_DISPATCH_EVERY_MS,
      retentionDays: parsed.WEBHOOK_RETENTION_DAYS,
    },
    shutdownDeadlineMs: parsed.SHUTDOWN_DEADLINE_SECONDS * 1000,
    http: { port: parsed.WORKER_HTTP_PORT, host: parsed.WORKER_HTTP_HOST },
    metricsToken: parsed.METRICS_TOKEN,
  };
}
