import type { Queue } from 'bullmq';
import {
  confirmationJobId,
  confirmationJobOptions,
  fanOutJobOptions,
  fanOutPayload,
  jobNames,
  processEventsJobOptions,
  processEventsPayload,
  sendConfirmationPayload,
} from './jobs.js';

/** Payloads are parsed before they are enqueued, so a worker never meets a malformed one. */
export async function enqueueConfirmation(queue: Queue, subscriberId: string): Promise<void> {
  const payload = sendConfirmationPayload.parse({ subscriberId });
  await queue.add(jobNames.sendConfirmation, payload, {
    ...confirmationJobOptions,
    jobId: confirmationJobId(subscriberId),
  });
}

/** Starts (or resumes) a campaign's fan-out. Running it more than once is harmless. */
export async function enqueueFanOut(queue: Queue, campaignId: string): Promise<void> {
  const payload = fanOutPayload.parse({ campaignId });
  await queue.add(jobNames.fanOut, payload, fanOutJobOptions);
}

/** Asks a worker to apply the webhook events stored but not yet processed. */
export async function enqueueEventProcessing(queue: Queue): Promise<void> {
  await queue.add(jobNames.processEvents, processEventsPayload.parse({}), processEventsJobOptions);
}
