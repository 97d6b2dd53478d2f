import { RateLimitError, UnrecoverableError } from 'bullmq';
import type { WorkerMetrics } from './worker-metrics.js';

/**
 * Counts how a send job ended, read off the handler's own contract: the outcome it returns
 * ('sent', 'skipped', 'paused'), or the BullMQ error it throws (RateLimitError: held back by a
 * 429; UnrecoverableError: failed for good; anything else: BullMQ retries it).
 */
export async function countSendOutcome<T>(metrics: WorkerMetrics, run: () => Promise<T>): Promise<T> {
  try {
    const result = await run();
    metrics.sends.inc({ outcome: typeof result === 'string' ? result : 'completed' });
    return result;
  } catch (err) {
    const outcome =
      err instanceof RateLimitError ? 'rate_limited' : err instanceof UnrecoverableError ? 'failed' : 'retrying';
    metrics.sends.inc({ outcome });
    throw err;
  }
}
