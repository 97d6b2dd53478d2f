import { enqueueJobs } from './enqueue-job.js';
import { jobs } from './job-catalog.js';
import type { Queues } from './queues.js';

/**
 * Enqueues the send jobs of welcome emails that `queueWelcomeEmails` recorded, in one call to Redis.
 * Call it after the transaction that wrote the rows has committed (a job must never find no row),
 * from a request through `enqueueOrDefer`: the rows are the promise, and the worker's reconciler
 * enqueues any row left queued that Redis never got, so a failure here only delays the email. Each
 * row's job id is fixed, so enqueueing twice (a retry, the reconciler meanwhile) adds one job.
 */
export async function enqueueWelcomeEmails(queues: Queues, welcomeEmailIds: readonly string[]): Promise<void> {
  const unique = [...new Set(welcomeEmailIds)];
  await enqueueJobs(
    queues,
    jobs.sendWelcome,
    unique.map((welcomeEmailId) => ({ payload: { welcomeEmailId }, key: undefined })),
  );
}
