import { confirmationJobId, confirmationJobOptions, jobNames, sendConfirmationPayload } from '@herald/shared';
import type { Logger } from '@herald/shared';
import type { Queue } from 'bullmq';

const jobsPerCall = 1_000;
/** addBulk calls in flight at once: Redis is then busy while Node builds the next call (~1.4x). */
const callsInFlight = 4;
/** BullMQ waits for a connection rather than failing while Redis is down; give up after this. */
const callTimeoutMs = 5_000;

/**
 * Enqueues one confirmation email per new pending subscriber, with the same job ids and options as
 * a signup (enqueueConfirmation). The subscribers are already committed; if Redis is down this logs
 * and stops, and the reconciler sends what was missed. Returns how many jobs were added.
 */
export async function queueConfirmations(queue: Queue, idLists: string[], logger: Logger): Promise<number> {
  const chunks = (function* () {
    for (const list of idLists) {
      const ids = list.split(',');
      for (let start = 0; start < ids.length; start += jobsPerCall) yield ids.slice(start, start + jobsPerCall);
    }
  })();
  let queued = 0;
  let failed = false;
  const addChunks = async () => {
    for (const ids of chunks) {
      if (failed) return;
      await addBulkWithin(
        queue,
        ids.map((subscriberId) => ({
          name: jobNames.sendConfirmation,
          data: sendConfirmationPayload.parse({ subscriberId }),
          opts: { ...confirmationJobOptions, jobId: confirmationJobId(subscriberId) },
        })),
      );
      queued += ids.length;
    }
  };
  await Promise.all(
    Array.from({ length: callsInFlight }, () =>
      addChunks().catch((err: unknown) => {
        if (!failed) logger.warn({ err }, 'import confirmations not all enqueued; the reconciler will send them');
        failed = true;
      }),
    ),
  );
  return queued;
}

/**
 * A call that timed out may still add its jobs once Redis is back; that is harmless, as the job ids
 * are the signup's and the worker re-checks the subscriber.
 */
async function addBulkWithin(queue: Queue, jobs: Parameters<Queue['addBulk']>[0]): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const adding = queue.addBulk(jobs);
  adding.catch(() => undefined);
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not take the jobs within ${callTimeoutMs} ms`)), callTimeoutMs);
  });
  try {
    await Promise.race([adding, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
