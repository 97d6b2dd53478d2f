/**
 * The job contract between the web and worker processes: queue names, job names, payload schemas,
 * default options and deterministic job ids. Queued jobs outlive deploys, so payloads only ever
 * gain optional fields; they carry ids, never addresses, bodies or secrets, and handlers re-read the
 * truth from Postgres.
 */
import { z } from 'zod';
import type { JobsOptions } from 'bullmq';

export const queueNames = {
  /** Turns a campaign into one send job per delivery. */
  campaigns: 'campaigns',
  /** One job per recipient: the only queue that talks to SendGrid for campaigns. */
  sends: 'sends',
  /** Double opt-in emails, apart from campaigns so a large send never delays a signup. */
  confirmations: 'confirmations',
  /** Applying SendGrid webhook events (suppressing bounced and complaining addresses). */
  events: 'events',
  /** Periodic reconciliation and other housekeeping. */
  maintenance: 'maintenance',
} as const;

export type QueueName = (typeof queueNames)[keyof typeof queueNames];

export const jobNames = {
  fanOut: 'fan-out',
  sendEmail: 'send-email',
  sendConfirmation: 'send-confirmation',
  reconcile: 'reconcile',
  processEvents: 'process-events',
} as const;

const uuid = z.uuid();

/** `after`: where a fan-out that waits for room in the send window goes on from (a delivery id). */
export const fanOutPayload = z.object({ campaignId: uuid, after: uuid.optional() });
export type FanOutPayload = z.infer<typeof fanOutPayload>;

export const sendEmailPayload = z.object({ deliveryId: uuid });
export type SendEmailPayload = z.infer<typeof sendEmailPayload>;

export const sendConfirmationPayload = z.object({ subscriberId: uuid });
export type SendConfirmationPayload = z.infer<typeof sendConfirmationPayload>;

export const reconcilePayload = z.object({});
export type ReconcilePayload = z.infer<typeof reconcilePayload>;

/** Events are stored before this is enqueued; the job applies every event not yet processed. */
export const processEventsPayload = z.object({});
export type ProcessEventsPayload = z.infer<typeof processEventsPayload>;

/**
 * Job id of a delivery's send job. BullMQ ignores an add whose id it still holds, which is what makes
 * a repeated fan-out harmless. `round` is bumped whenever a delivery must be enqueued anew (resume,
 * retry-failed, recovery), so the new job is not mistaken for the finished one BullMQ remembers.
 * BullMQ forbids `:` in custom ids and ids made only of digits; this has neither.
 */
export function sendJobId(deliveryId: string, round: number): string {
  return `send-${deliveryId}-${round}`;
}

/** Signups repeated within this window share one confirmation job. */
export const confirmationWindowMs = 10 * 60 * 1000;

/**
 * One confirmation job per subscriber per ten-minute window: repeated signups inside the window are
 * ignored by BullMQ; the worker also checks when the last email went out before sending another.
 */
export function confirmationJobId(subscriberId: string, now: Date = new Date()): string {
  return `confirm-${subscriberId}-${Math.floor(now.getTime() / confirmationWindowMs)}`;
}

/** How long finished jobs are kept, and so how long their ids keep deduplicating adds. */
const keepFinishedSeconds = 24 * 60 * 60;

/**
 * Retries with exponential backoff and full jitter: retry n waits a random time in
 * [0, delayMs * 2^(n-1)), so a provider outage does not turn into synchronised waves of retries.
 * Finished jobs are kept a day (failed ones a week) for the dashboard and for deduplication.
 */
function retrying(attempts: number, delayMs: number) {
  return {
    attempts,
    backoff: { type: 'exponential', delay: delayMs, jitter: 1 },
    removeOnComplete: { age: keepFinishedSeconds },
    removeOnFail: { age: 7 * keepFinishedSeconds },
  } satisfies JobsOptions;
}

/**
 * Six attempts in all; the base delay is configurable so tests need not wait seconds. Finished send
 * jobs are kept by number, not for a day: one per recipient would make Redis grow with the audience.
 * Their ids deduplicated repeated adds of a finished job; that guard is the delivery's conditional
 * claim in Postgres (a finished delivery is never claimed again), so an add after the removal is
 * harmless, and one for a delivery still queued is what should happen.
 */
export function sendJobOptions(retryDelayMs: number) {
  return {
    ...retrying(6, retryDelayMs),
    removeOnComplete: { count: 1_000 },
    removeOnFail: { age: 7 * keepFinishedSeconds, count: 10_000 },
  } satisfies JobsOptions;
}

export const confirmationJobOptions = retrying(8, 2_000);

export const fanOutJobOptions = retrying(10, 1_000);

/** Reconcile runs every minute: keep the last hundred for the dashboard. */
export const reconcileJobOptions = { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } } satisfies JobsOptions;

/** One job per webhook post: keep a bounded number rather than a day's worth. */
export const processEventsJobOptions = { ...retrying(10, 1_000), removeOnComplete: { count: 1_000 } } satisfies JobsOptions;
