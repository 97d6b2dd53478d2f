import { setTimeout as sleep } from 'node:timers/promises';
import type { KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import type { EventPlanner } from './event-plan.js';
import type { ReceivedMessage } from './received-message.js';
import { serializeEventBatch, signEventBatch } from './sign-event-batch.js';

export type EventReporterOptions = {
  url: string;
  signingKey: KeyObject;
  planEvents: EventPlanner;
  /** SendGrid posts at most this many events at once... */
  maxBatchSize?: number;
  /** ...or what it has every so often. */
  flushIntervalMs?: number;
  /** SendGrid retries for a day; a development sink gives up sooner and counts the loss. */
  maxAttempts?: number;
  retryBaseMs?: number;
  logger?: Pick<Logger, 'warn'>;
};

export type EventStats = {
  /** Events in batches the webhook answered 2xx. */
  posted: number;
  batches: number;
  /** Batches given up after every attempt failed, and the events they held. */
  failedBatches: number;
  failedEvents: number;
  /** POSTs that failed and were tried again. */
  retries: number;
};

export type EventReporter = {
  report(messages: ReceivedMessage[]): void;
  stats(): EventStats;
  resetStats(): void;
  /** Resolves once every planned event has been posted or given up: tests wait on it. */
  idle(): Promise<void>;
  /** Drops what is still planned, posts what is queued. */
  close(): Promise<void>;
};

/** Reports events to the Event Webhook as SendGrid does: signed JSON batches, retried on failure. */
export function createEventReporter(options: EventReporterOptions): EventReporter {
  const { url, signingKey, planEvents, maxBatchSize = 1_000, flushIntervalMs = 1_000, maxAttempts = 5, retryBaseMs = 500 } = options;
  let stats = emptyStats();
  let queue: object[] = [];
  const delayed = new Set<NodeJS.Timeout>();
  const inFlight = new Set<Promise<void>>();
  let flushTimer: NodeJS.Timeout | null = null;
  let idleWaiters: (() => void)[] = [];

  function enqueue(event: Record<string, unknown>): void {
    queue.push({ ...event, timestamp: Math.floor(Date.now() / 1000) });
    if (queue.length >= maxBatchSize) flush();
    else flushTimer ??= setTimeout(flush, flushIntervalMs);
  }

  function flush(): void {
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = null;
    while (queue.length > 0) {
      const batch = queue.slice(0, maxBatchSize);
      queue = queue.slice(batch.length);
      const posting = post(batch).finally(() => {
        inFlight.delete(posting);
        checkIdle();
      });
      inFlight.add(posting);
    }
  }

  async function post(batch: object[]): Promise<void> {
    const body = serializeEventBatch(batch);
    for (let attempt = 1; ; attempt += 1) {
      const problem = await postOnce(body);
      if (problem === null) {
        stats.posted += batch.length;
        stats.batches += 1;
        return;
      }
      if (attempt >= maxAttempts) {
        stats.failedBatches += 1;
        stats.failedEvents += batch.length;
        options.logger?.warn({ url, events: batch.length, problem }, 'event webhook batch given up');
        return;
      }
      stats.retries += 1;
      await sleep(retryBaseMs * 2 ** (attempt - 1));
    }
  }

  /** Null on a 2xx; otherwise what went wrong. Signed per attempt, as the timestamp must be fresh. */
  async function postOnce(body: Buffer): Promise<string | null> {
    try {
      const response = await fetch(url, { method: 'POST', headers: signEventBatch(signingKey, body), body });
      await response.arrayBuffer();
      return response.ok ? null : `HTTP ${response.status}`;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }

  function checkIdle(): void {
    if (delayed.size > 0 || queue.length > 0 || inFlight.size > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  return {
    report(messages) {
      for (const message of messages) {
        for (const { delayMs, event } of planEvents(message)) {
          if (delayMs <= 0) {
            enqueue(event);
            continue;
          }
          const timer = setTimeout(() => {
            delayed.delete(timer);
            enqueue(event);
          }, delayMs);
          delayed.add(timer);
        }
      }
    },
    stats: () => ({ ...stats }),
    resetStats() {
      stats = emptyStats();
    },
    idle() {
      // Waiting means not waiting for the batching interval as well.
      flush();
      const done = new Promise<void>((resolve) => idleWaiters.push(resolve));
      checkIdle();
      return done;
    },
    async close() {
      for (const timer of delayed) clearTimeout(timer);
      delayed.clear();
      flush();
      await Promise.all(inFlight);
    },
  };
}

function emptyStats(): EventStats {
  return { posted: 0, batches: 0, failedBatches: 0, failedEvents: 0, retries: 0 };
}
