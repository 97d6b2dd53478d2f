/**
 * The job catalog: the whole contract between the web and worker processes. Each job is one entry
 * naming its queue, its job name, its payload schema, its default options and how its id is made.
 * Producers enqueue through an entry (enqueue-job.ts); the worker maps every entry to a handler and
 * dispatches on the job name, so a job is only ever parsed with its own schema.
 *
 * Queued jobs outlive deploys, so payloads only ever gain optional fields; they carry ids, never
 * addresses, bodies or secrets, and handlers re-read the truth from Postgres.
 */
import { z } from 'zod';
import type { JobsOptions } from 'bullmq';

export const queueNames = {
  /** Turns a campaign into one send job per delivery. */
  campaigns: 'campaigns',
  /** One job per recipient: the only queue that talks to SendGrid for campaigns. */
  sends: 'sends',
  /** Double opt-in and welcome emails, apart from campaigns so a large send never delays a signup. */
  confirmations: 'confirmations',
  /** Applying SendGrid webhook events (suppressing bounced and complaining addresses). */
  events: 'events',
  /** Periodic reconciliation and other housekeeping. */
  maintenance: 'maintenance',
  /** An admin's test email of a campaign to one address: no delivery, no audience. */
  testSends: 'test-sends',
  /** Outbound webhooks: one job per attempt at delivering one event to one endpoint. */
  webhooks: 'webhooks',
} as const;

/** A queue as the code names it (`sends`); `queueNames` maps it to its name in Redis. */
export type QueueKey = keyof typeof queueNames;
export type QueueName = (typeof queueNames)[QueueKey];

/**
 * One job. `jobId` turns the payload and a producer-supplied `key` (a round, a moment) into the
 * BullMQ job id: BullMQ ignores an add whose id it still holds, which is what makes repeated
 * enqueues harmless. BullMQ forbids `:` in custom ids and ids made only of digits; none has either.
 * Without `jobId` every add is a new job.
 */
export type JobDefinition<Name extends string = string, Payload = unknown, Key = void> = {
  queue: QueueKey;
  name: Name;
  schema: z.ZodType<Payload>;
  options: JobsOptions;
  jobId?: (payload: Payload, key: Key) => string;
};

/** Any catalog entry, whatever its payload: what the worker iterates over. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyJobDefinition = JobDefinition<string, any, any>;

export type JobPayload<J> = J extends JobDefinition<string, infer P, infer _K> ? P : never;
export type JobKey<J> = J extends JobDefinition<string, infer _P, infer K> ? K : never;

function defineJob<const Name extends string, Payload, Key = void>(
  definition: JobDefinition<Name, Payload, Key>,
): JobDefinition<Name, Payload, Key> {
  return definition;
}

/** How long finished jobs are kept, and so how long their ids keep deduplicating adds. */
const keepFinishedSeconds = 24 * 60 * 60;

/**
 * Retries with exponential backoff and full jitter: retry n waits a random time in
 * [0, delayMs * 2^(n-1)), so a provider outage does not turn into synchronised waves of retries.
 * Finished jobs are kept a day (failed ones a week) for the dashboard and for deduplication.
 */
export function retryingOptions(attempts: number, delayMs: number) {
  return {
    attempts,
    backoff: { type: 'exponential', delay: delayMs, jitter: 1 },
    removeOnComplete: { age: keepFinishedSeconds },
    removeOnFail: { age: 7 * keepFinishedSeconds },
  } satisfies JobsOptions;
}

/**
 * What the sends queue keeps of its finished jobs. A completed send job is removed at once: one per
 * recipient would make Redis grow with the audience, and keeping even the last thousand cost every
 * completion a sorted-set add, a hash write and a trim. Its id deduplicated repeated adds of a
 * finished job; that guard is the delivery's conditional claim in Postgres (a finished delivery is
 * never claimed again), so an add after the removal is harmless, and one for a delivery still
 * queued is what should happen (the reconciler re-adds a queued delivery whose job is gone). Failed
 * jobs are kept a week, up to ten thousand, for the dashboard.
 */
export const finishedSendJobs = {
  removeOnComplete: { count: 0 },
  removeOnFail: { age: 7 * keepFinishedSeconds, count: 10_000 },
} as const;

/** Signups repeated within this window share one confirmation job. */
export const confirmationWindowMs = 10 * 60 * 1000;

const uuid = z.uuid();

/** Job id of a delivery's send job in a given round (see `jobs.sendEmail`). */
export function sendJobId(deliveryId: string, round: number): string {
  return `send-${deliveryId}-${round}`;
}

/** Job id of a welcome email's send job (see `jobs.sendWelcome`). */
export function welcomeJobId(welcomeEmailId: string): string {
  return `welcome-${welcomeEmailId}`;
}

/** Job id of an invitation email, by when it was asked for (see `jobs.sendInvitation`). */
export function invitationJobId(userId: string, invitedAt: Date): string {
  return `invite-${userId}-${invitedAt.getTime()}`;
}

export const jobs = {
  /**
   * Pages through a campaign's queued deliveries and enqueues one send job each, keeping a window
   * of them in Redis; `after` is where a fan-out waiting for room goes on from (a delivery id).
   * Keyed by the moment the fan-out was asked for: the campaign's `updatedAt` as it (re)entered
   * `sending`, or the reconciler's run for a restart. Enqueueing the same start twice runs one
   * fan-out, while a resume or a retry after a finished fan-out is a new start with a new id, so
   * BullMQ's memory of the finished job never swallows it, nor does a fan-out still running.
   */
  fanOut: defineJob({
    queue: 'campaigns',
    name: 'fan-out',
    schema: z.object({ campaignId: uuid, after: uuid.optional() }),
    options: retryingOptions(10, 1_000),
    jobId: ({ campaignId }, startedAt: Date) => `fan-out-${campaignId}-${startedAt.getTime()}`,
  }),

  /**
   * One email to one recipient. Keyed by the delivery's `round`, which is bumped whenever a
   * delivery must be enqueued anew (resume, retry-failed, recovery), so the new job is not mistaken
   * for a failed one BullMQ remembers. Six attempts; producers set the backoff base
   * (SEND_RETRY_DELAY_MS) so tests need not wait seconds. What BullMQ keeps of a finished send job
   * is `finishedSendJobs`, set on the Worker rather than written into every job.
   */
  sendEmail: defineJob({
    queue: 'sends',
    name: 'send-email',
    schema: z.object({ deliveryId: uuid }),
    options: { attempts: 6, backoff: { type: 'exponential', delay: 2_000, jitter: 1 } },
    jobId: ({ deliveryId }, round: number) => sendJobId(deliveryId, round),
  }),

  /**
   * A double opt-in email. One job per subscriber per ten-minute window: repeated signups inside the
   * window are ignored by BullMQ; the worker also checks when the last email went out.
   */
  sendConfirmation: defineJob({
    queue: 'confirmations',
    name: 'send-confirmation',
    schema: z.object({ subscriberId: uuid }),
    options: retryingOptions(8, 2_000),
    jobId: ({ subscriberId }, now: Date) => `confirm-${subscriberId}-${Math.floor(now.getTime() / confirmationWindowMs)}`,
  }),

  /**
   * A list's welcome email to one new subscriber: one `welcome_emails` row, written in the
   * transaction that activated the subscription. On the confirmations queue: like a confirmation it
   * answers a person's own act, and must not wait behind a campaign. One id per row; a completed job
   * is removed at once, so the reconciler can add the job again for a row recovered from a crash. The
   * row's conditional claim, not the id, is what keeps a second job from sending a second email.
   */
  sendWelcome: defineJob({
    queue: 'confirmations',
    name: 'send-welcome',
    schema: z.object({ welcomeEmailId: uuid }),
    options: { ...retryingOptions(8, 2_000), removeOnComplete: true },
    jobId: ({ welcomeEmailId }) => welcomeJobId(welcomeEmailId),
  }),

  /**
   * An invitation to join the team, to a user who has no password yet. On the confirmations queue:
   * like a confirmation it is one transactional email a person waits for, and must not queue behind
   * a campaign. Keyed by when the invitation was asked for (the row's `invited_at`), so the
   * reconciler's re-add of a lost job is ignored while BullMQ still holds it, and a resend, which
   * sets a new `invited_at`, is a new job. The handler writes a fresh token each time it sends.
   */
  sendInvitation: defineJob({
    queue: 'confirmations',
    name: 'send-invitation',
    schema: z.object({ userId: uuid }),
    options: retryingOptions(8, 2_000),
    jobId: ({ userId }, invitedAt: Date) => invitationJobId(userId, invitedAt),
  }),

  /** Makes Redis agree with Postgres again; also runs every minute from a job scheduler. */
  reconcile: defineJob({
    queue: 'maintenance',
    name: 'reconcile',
    schema: z.object({}),
    // Runs every minute: keep the last hundred for the dashboard.
    options: { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } },
  }),

  /** Events are stored before this is enqueued; the job applies every event not yet processed. */
  processEvents: defineJob({
    queue: 'events',
    name: 'process-events',
    schema: z.object({}),
    // One job per webhook post: keep a bounded number rather than a day's worth.
    options: { ...retryingOptions(10, 1_000), removeOnComplete: { count: 1_000 } },
  }),

  /**
   * An admin's test of a campaign, to one address, through the same rendering and SendGrid path
   * as the real send but with no delivery. The one payload with an address: a test recipient is
   * typed by the admin and is not a subscriber, so there is no row to point at. Such a job is
   * removed as soon as it succeeds (failed ones are kept a day for the dashboard); three attempts.
   */
  sendTestEmail: defineJob({
    queue: 'testSends',
    name: 'send-test-email',
    schema: z.object({ campaignId: uuid, to: z.email() }),
    options: { ...retryingOptions(3, 1_000), removeOnComplete: true, removeOnFail: { age: keepFinishedSeconds } },
  }),

  /**
   * One attempt at delivering one event to one endpoint (a `webhook_deliveries` row). Postgres
   * schedules the attempts (`next_attempt_at`, with the backoff and Retry-After), and the
   * dispatcher enqueues the due ones, keyed by the attempts made: an attempt is enqueued once,
   * and a retry is a new job. The job's own retries only cover a worker that could not reach
   * Postgres. Removed once done, failed or not, so the dispatcher's next try of a lost attempt is
   * never taken for a job BullMQ still remembers; the row's conditional claim keeps a second job
   * from making a second POST.
   */
  deliverWebhook: defineJob({
    queue: 'webhooks',
    name: 'deliver-webhook',
    /** `attempts`: the attempts already made, so this job makes attempt `attempts + 1`. */
    schema: z.object({ deliveryId: uuid, attempts: z.number().int().min(0) }),
    options: { ...retryingOptions(5, 1_000), removeOnComplete: true, removeOnFail: true },
    jobId: ({ deliveryId, attempts }) => `webhook-${deliveryId}-${attempts}`,
  }),
} as const;

export type JobCatalog = typeof jobs;

/** Every entry, for the worker's startup check and dispatch. */
export const jobCatalog: readonly AnyJobDefinition[] = Object.values(jobs);

export type FanOutPayload = JobPayload<JobCatalog['fanOut']>;
export type SendEmailPayload = JobPayload<JobCatalog['sendEmail']>;
export type SendConfirmationPayload = JobPayload<JobCatalog['sendConfirmation']>;
export type ReconcilePayload = JobPayload<JobCatalog['reconcile']>;
export type ProcessEventsPayload = JobPayload<JobCatalog['processEvents']>;
export type SendTestEmailPayload = JobPayload<JobCatalog['sendTestEmail']>;
export type SendWelcomePayload = JobPayload<JobCatalog['sendWelcome']>;
export type SendInvitationPayload = JobPayload<JobCatalog['sendInvitation']>;
export type DeliverWebhookPayload = JobPayload<JobCatalog['deliverWebhook']>;
