/**
 * Herald's worker as it runs in production: the compiled entry point (built at the start of the
 * bench), in a process of its own, sending to the provider stand-in. Settings left undefined keep
 * the worker's own defaults.
 */
import { startChild } from './child-processes.js';
import type { Child } from './child-processes.js';

export const benchMetricsToken = 'bench-metrics-token-0123456789';

/** The newsletter every sender in the bench sends as: Herald and the bare sender lay out the same email. */
export const benchNewsletterEnv = {
  NEWSLETTER_NAME: 'Bench',
  PUBLIC_URL: 'https://bench.example.com',
  SENDGRID_API_KEY: 'SG.bench',
  MAIL_FROM: 'bench@example.com',
  MAIL_POSTAL_ADDRESS: '1 Bench Street',
};

export type WorkerSettings = {
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
  providerUrl: string;
  concurrency?: number;
  /** SEND_BATCH_SIZE: 1 is one SendGrid request per recipient. */
  batchSize?: number;
  /** SEND_RATE_PER_SECOND; unset, none (the worker's default). */
  ratePerSecond?: number | null;
  /** Write a V8 CPU profile of the worker into this directory. */
  profileDir?: string;
};

/** What the worker says it runs with, its defaults included. */
export type RunningWorker = { child: Child; pid: number; metricsUrl: string; concurrency: number; sendBatchSize: number };

export async function startHeraldWorker(settings: WorkerSettings): Promise<RunningWorker> {
  const profile = settings.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${settings.profileDir}`] : [];
  const optional: Record<string, string> = {};
  if (settings.concurrency !== undefined) optional.WORKER_CONCURRENCY = String(settings.concurrency);
  if (settings.batchSize !== undefined) optional.SEND_BATCH_SIZE = String(settings.batchSize);
  if (settings.ratePerSecond) optional.SEND_RATE_PER_SECOND = String(settings.ratePerSecond);
  // The heap limit the worker runs with in production (Dockerfile.worker, npm run start:worker).
  const child = startChild([process.execPath, '--max-old-space-size=128', ...profile, 'apps/worker/dist/main.js'], {
    NODE_ENV: 'production',
    ...benchNewsletterEnv,
    LOG_LEVEL: 'info',
    DATABASE_URL: settings.databaseUrl,
    REDIS_URL: settings.redisUrl,
    QUEUE_PREFIX: settings.queuePrefix,
    SENDGRID_API_URL: settings.providerUrl,
    WORKER_HTTP_PORT: '0',
    WORKER_HTTP_HOST: '127.0.0.1',
    METRICS_TOKEN: benchMetricsToken,
    ...optional,
  });
  const started = JSON.parse(await child.waitForLine((line) => line.includes('"worker started"'))) as { opsPort: number; concurrency: number; sendBatchSize: number };
  return {
    child,
    pid: child.process.pid!,
    metricsUrl: `http://127.0.0.1:${started.opsPort}/metrics`,
    concurrency: started.concurrency,
    sendBatchSize: started.sendBatchSize,
  };
}
