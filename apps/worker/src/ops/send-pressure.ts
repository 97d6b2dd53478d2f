import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { PgPool } from '@herald/shared';
import type { Redis } from 'ioredis';

/**
 * Where a worker's sends are waiting, so an operator can see which limit binds: send jobs running
 * against WORKER_CONCURRENCY, calls open at SendGrid, queries waiting for a Postgres connection,
 * commands waiting on the shared Redis connection, and how late the event loop runs.
 */
export type SendPressure = {
  /** Counts a send job as running while `run` runs. */
  trackJob<T>(run: () => Promise<T>): Promise<T>;
  /** Counts a call to the provider as open while `run` runs. */
  trackProviderCall<T>(run: () => Promise<T>): Promise<T>;
  /** The counts now, and their highest values since the last `sample`. */
  sample(): SendPressureSample;
  stop(): void;
};

export type SendPressureSample = {
  jobsRunning: number;
  jobsRunningPeak: number;
  providerCalls: number;
  providerCallsPeak: number;
  dbPoolWaiting: number;
  redisPending: number;
  /** 99th percentile of event-loop delay since the last sample, in seconds. */
  eventLoopDelayP99: number;
};

export type SendPressureSources = {
  /** The worker's Postgres pool (see createPgPool). */
  pool?: PgPool;
  /** The connection every queue and worker of the process shares for non-blocking commands. */
  redis?: Redis;
};

/** ioredis keeps sent commands awaiting their reply in `commandQueue`; it is not in its typings. */
function pendingCommands(redis: Redis | undefined): number {
  const queue = (redis as unknown as { commandQueue?: { length: number } } | undefined)?.commandQueue;
  return queue?.length ?? 0;
}

export function createSendPressure(sources: SendPressureSources = {}): SendPressure {
  let jobs = 0;
  let jobsPeak = 0;
  let calls = 0;
  let callsPeak = 0;
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const track = async <T>(run: () => Promise<T>, which: 'jobs' | 'calls'): Promise<T> => {
    if (which === 'jobs') jobsPeak = Math.max(jobsPeak, ++jobs);
    else callsPeak = Math.max(callsPeak, ++calls);
    try {
      return await run();
    } finally {
      if (which === 'jobs') jobs -= 1;
      else calls -= 1;
    }
  };
  return {
    trackJob: (run) => track(run, 'jobs'),
    trackProviderCall: (run) => track(run, 'calls'),
    sample() {
      const sample = {
        jobsRunning: jobs,
        jobsRunningPeak: jobsPeak,
        providerCalls: calls,
        providerCallsPeak: callsPeak,
        dbPoolWaiting: sources.pool?.waitingCount ?? 0,
        redisPending: pendingCommands(sources.redis),
        eventLoopDelayP99: delay.count > 0 ? delay.percentile(99) / 1e9 : 0,
      };
      jobsPeak = jobs;
      callsPeak = calls;
      delay.reset();
      return sample;
    },
    stop: () => delay.disable(),
  };
}

/**
 * Registers the send-pressure series in `registry`; each scrape reads them fresh. Peaks and the
 * event-loop percentile cover the time since the previous scrape.
 */
export function registerSendPressureMetrics(registry: Registry, pressure: SendPressure, options: { concurrency: number; pool?: PgPool }): void {
  let last: SendPressureSample | undefined;
  // One sample per scrape, shared by every series below (collect runs once per series).
  let sampledAt = 0;
  const current = () => {
    if (!last || Date.now() - sampledAt > 100) {
      last = pressure.sample();
      sampledAt = Date.now();
    }
    return last;
  };
  const gauge = (name: string, help: string, read: (sample: SendPressureSample) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read(current()));
      },
    });
  new Gauge({ name: 'herald_worker_concurrency', help: 'WORKER_CONCURRENCY: send jobs this worker runs at once at most.', registers: [registry] }).set(
    options.concurrency,
  );
  gauge('herald_worker_send_jobs_running', 'Send jobs running in this worker now.', (s) => s.jobsRunning);
  gauge('herald_worker_send_jobs_running_peak', 'Most send jobs running at once since the last scrape.', (s) => s.jobsRunningPeak);
  gauge('herald_worker_provider_calls_in_flight', 'Calls to SendGrid open now.', (s) => s.providerCalls);
  gauge('herald_worker_provider_calls_in_flight_peak', 'Most calls to SendGrid open at once since the last scrape.', (s) => s.providerCallsPeak);
  gauge('herald_worker_db_pool_waiting', 'Queries waiting for a free Postgres connection (DATABASE_POOL_SIZE binds when this stays above 0).', (s) => s.dbPoolWaiting);
  gauge('herald_worker_redis_commands_pending', 'Commands sent on the shared Redis connection and awaiting their reply.', (s) => s.redisPending);
  gauge('herald_worker_event_loop_delay_p99_seconds', '99th percentile of event-loop delay since the last scrape.', (s) => s.eventLoopDelayP99);
  if (options.pool) {
    const pool = options.pool;
    new Gauge({
      name: 'herald_worker_db_pool_connections',
      help: 'Postgres connections of this worker, by state.',
      labelNames: ['state'] as const,
      registers: [registry],
      collect() {
        this.set({ state: 'total' }, pool.totalCount);
        this.set({ state: 'idle' }, pool.idleCount);
      },
    });
  }
}
