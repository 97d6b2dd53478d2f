import { enqueueJob, jobs } from '@herald/shared';
import type { ProcessEventsPayload } from '@herald/shared';
import { applyEventBatch } from '../events/apply-event-batch.js';
import type { EventBatchResult } from '../events/apply-event-batch.js';
import type { JobContext, WorkerDeps } from '../deps.js';

const batchSize = 2000;
/** Bounds one job's run under a steady inflow, so a shutdown never waits on an endless drain. */
const maxBatchesPerJob = 20;

export type ProcessEventsOutcome = EventBatchResult;

/**
 * Applies stored SendGrid webhook events that are not processed yet, a batch per transaction. Any
 * job drains everything pending, so how many jobs the webhook queued does not matter; one that
 * stops at its bound queues a successor for the rest.
 */
export async function processEvents(_payload: ProcessEventsPayload, ctx: JobContext, deps: WorkerDeps): Promise<ProcessEventsOutcome> {
  const total: ProcessEventsOutcome = { processed: 0, suppressed: 0 };
  for (let batch = 1; ; batch += 1) {
    const result = await applyEventBatch(deps.db, batchSize);
    total.processed += result.processed;
    total.suppressed += result.suppressed;
    if (result.processed < batchSize) break;
    if (batch >= maxBatchesPerJob) {
      await enqueueJob(deps.queues, jobs.processEvents, {});
      break;
    }
  }
  if (total.processed > 0) ctx.log.info(total, 'events processed');
  return total;
}
