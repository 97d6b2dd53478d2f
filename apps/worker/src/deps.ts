import type { Db, EmailLayout, Logger, PgPool, Queues } from '@herald/shared';
import type { WorkerConfig } from './config.js';
import type { CampaignFinisher } from './campaigns/campaign-finisher.js';
import type { Mailer } from './mail/mailer.js';
import type { WorkerMetrics } from './ops/worker-metrics.js';
import type { SendPressure } from './ops/send-pressure.js';

/** Everything handlers need, opened by main.ts (or a test) and passed in. */
export type WorkerDeps = {
  config: WorkerConfig;
  db: Db;
  /** The pool `db` runs on, for the send path's claim and `sent` mark (see delivery-statements.ts). */
  pool: PgPool;
  queues: Queues;
  mailer: Mailer;
  /** Compiled and proven at start; every email Herald sends is wrapped in it. */
  emailLayout: EmailLayout;
  logger: Logger;
  /** Prometheus series; handlers count what they do here (see ops/worker-metrics.ts). */
  metrics: WorkerMetrics;
  /** Campaign-done checks after sends, at most one per campaign per 200 ms (see campaign-finisher.ts). */
  finisher: CampaignFinisher;
  /** Counts running send jobs for the metrics; absent in tests that do not look. */
  pressure?: SendPressure;
};

/** What the BullMQ adapter tells a handler about the run in progress. */
export type JobContext = {
  log: Logger;
  /** 1 on the first run. */
  attempt: number;
  maxAttempts: number;
  /**
   * `<job id>/<attempts made>`: the same for every run of one attempt of one job. BullMQ runs an
   * attempt a second time only when the first run's lock expired (a stalled job), so a handler that
   * finds this token on a claim it did not release knows that claim was abandoned.
   */
  claimToken: string;
  /** Holds back every job of this job's queue (all workers) for `ms`; the caller then throws RateLimitError. */
  pauseQueue(ms: number): Promise<void>;
};
