import type { ProcessEventsPayload } from '@herald/shared';
import type { JobContext, WorkerDeps } from '../deps.js';

/** Applies stored SendGrid webhook events that are not processed yet. */
export async function processEvents(_payload: ProcessEventsPayload, _ctx: JobContext, _deps: WorkerDeps): Promise<{ processed: number }> {
  return { processed: 0 };
}
