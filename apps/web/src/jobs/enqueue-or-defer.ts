import type { Logger } from '@herald/shared';

/** How long a request waits for Redis before answering without it. */
const enqueueWaitMs = 2_000;

/**
 * Enqueues work from a request path without letting Redis decide the answer. The work itself is
 * already in Postgres, and the reconciler enqueues whatever this misses, so a failure or a slow
 * Redis is logged, not thrown. The wait is bounded because BullMQ waits, rather than fails, when
 * Redis was already down when the process started. Resolves whether the job was enqueued in time.
 */
export async function enqueueOrDefer(what: string, enqueue: () => Promise<unknown>, log: Logger): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const enqueued = enqueue().then(
    () => true,
    (err: unknown) => {
      log.warn({ err, what }, 'not enqueued; the reconciler will pick it up');
      return false;
    },
  );
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => {
      log.warn({ what, waitedMs: enqueueWaitMs }, 'not enqueued in time; the reconciler will pick it up');
      resolve(false);
    }, enqueueWaitMs);
  });
  const outcome = await Promise.race([enqueued, timedOut]);
  clearTimeout(timer);
  return outcome;
}
