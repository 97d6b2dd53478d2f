import { classifySendError } from './sendgrid.js';

/**
 * What a job does after a failed provider call, the same for every job that sends mail (campaign
 * sends, confirmations). The job carries out the decision on its own rows; this table is the one
 * place that decides.
 *
 * | provider answer                          | decision   | the job                                        |
 * |------------------------------------------|------------|------------------------------------------------|
 * | 429                                      | hold-queue | holds its whole queue until the reset; no attempt used |
 * | 401, 403 (key, scope, sender, blocked)   | stop       | stops sending and surfaces the reason (campaign paused; confirmations held) |
 * | 5xx, 408, timeout, reset, refused        | retry      | backs off (BullMQ, exponential with jitter)    |
 * | 5xx etc. on the last attempt             | give-up    | fails for good, with the reason                |
 * | any other 4xx; a message the client refused | give-up | fails at once: retrying cannot help            |
 */
export type FailureDecision =
  | { action: 'hold-queue'; waitMs: number; reason: string }
  | { action: 'stop'; reason: string }
  | { action: 'retry'; reason: string }
  | { action: 'give-up'; reason: string };

export function decideOnFailure(err: unknown, run: { attempt: number; maxAttempts: number }, now = Date.now()): FailureDecision {
  const failure = classifySendError(err, now);
  switch (failure.kind) {
    case 'rate-limited':
      return { action: 'hold-queue', waitMs: failure.waitMs, reason: failure.reason };
    case 'unauthorized':
      return { action: 'stop', reason: failure.reason };
    case 'rejected':
      return { action: 'give-up', reason: failure.reason };
    case 'transient':
      return run.attempt >= run.maxAttempts
        ? { action: 'give-up', reason: `gave up after ${run.attempt} attempts: ${failure.reason}` }
        : { action: 'retry', reason: failure.reason };
  }
}
