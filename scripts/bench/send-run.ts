/**
 * One send-throughput run of one system, each in a process of its own over a private Redis: bare
 * BullMQ (empty processor, or one @sendgrid/mail call per job) or Herald end to end (POST /send →
 * fan-out → claim → SendGrid client → mark sent), timed to the last recipient at the provider.
 * finishRun turns any of them into the same result.
 */
import { Queue } from 'bullmq';
import { startWebProcess } from './bench-web.js';
import { processStats, startChild, stopChild, tsxNode } from './child-processes.js';
import type { Child } from './child-processes.js';
import { cpuBetween, readCpu } from './cpu-usage.js';
import type { CpuPids, CpuReading, CpuUsage } from './cpu-usage.js';
import { benchMetricsToken, startHeraldWorker } from './herald-worker.js';
import { postSend, seedAudience } from './post-send.js';
import { startPrivateRedis } from './private-redis.js';
import { eachOnce } from './provider.js';
import type { Provider, ProviderStats } from './provider.js';
import { sampleRun } from './sample-run.js';
import type { Sampled } from './sample-run.js';

export type SendSystem = 'bare-empty' | 'bare-client' | 'herald' | 'herald-batched';

export type SendRun = {
  system: SendSystem;
  latencyMs: number | null;
  concurrency: number;
  batchSize: number | null;
  recipients: number;
  seconds: number;
  sendsPerSecond: number;
  providerRequests: number | null;
  inFlightAverage: number | null;
  inFlightPeak: number | null;
  /** Null for the empty processor, which reaches no provider to count at. */
  exactlyOnce: boolean | null;
  workerRssPeakMb: number;
  workerCpuPercent: number;
  redisPeakMb: number;
  /** Worker RSS (MB) when 10k, 100k, 1M... recipients had reached the provider. */
  rssAtSentMb: Record<string, number>;
  /** Herald: how long POST /send took to answer with every task id. */
  sendAnswerMs: number | null;
  jobsRunningAverage: number | null;
  dbPoolWaitingAverage: number | null;
  eventLoopP99MedianMs: number | null;
  eventLoopP99MaxMs: number | null;
  /**
   * CPU seconds over the run, from the first job to the last recipient at the provider: the whole
   * machine's busy time, and the sender (`worker`), the web, Postgres and Redis in it. Absent from
   * results written before it was measured.
   */
  cpu?: CpuUsage;
};

type Finished = {
  system: SendSystem;
  latencyMs: number | null;
  concurrency: number;
  batchSize: number | null;
  recipients: number;
  startedAt: number;
  endedAt: number;
  pid: number;
  cpuBefore: number;
  pids: CpuPids;
  cpuAtStart: CpuReading;
  sampled: Sampled;
  /** The provider's counts, or, for the empty processor, how many jobs completed. */
  provider: ProviderStats | null;
  sendAnswerMs?: number;
};

/** The result of a run, read while its worker is still alive (its peak RSS and CPU time). */
export function finishRun(run: Finished): SendRun {
  const seconds = (run.endedAt - run.startedAt) / 1000;
  const { peakRssMb, cpuSeconds } = processStats(run.pid);
  return {
    system: run.system,
    latencyMs: run.latencyMs,
    concurrency: run.concurrency,
    batchSize: run.batchSize,
    recipients: run.recipients,
    seconds,
    sendsPerSecond: run.recipients / seconds,
    providerRequests: run.provider?.requests ?? null,
    inFlightAverage: run.provider?.inFlightAverage ?? null,
    inFlightPeak: run.provider?.inFlightPeak ?? null,
    exactlyOnce: run.provider ? eachOnce(run.provider, run.recipients) : null,
    workerRssPeakMb: Math.max(peakRssMb, run.sampled.rssPeakMb),
    workerCpuPercent: ((cpuSeconds - run.cpuBefore) / seconds) * 100,
    redisPeakMb: run.sampled.redisPeakMb,
    rssAtSentMb: run.sampled.rssAtSentMb,
    sendAnswerMs: run.sendAnswerMs ?? null,
    jobsRunningAverage: run.sampled.jobsRunningAverage ?? null,
    dbPoolWaitingAverage: run.sampled.dbPoolWaitingAverage ?? null,
    eventLoopP99MedianMs: run.sampled.eventLoopP99MedianMs ?? null,
    eventLoopP99MaxMs: run.sampled.eventLoopP99MaxMs ?? null,
    cpu: cpuBetween(run.cpuAtStart, readCpu(run.pids)),
  };
}

/**
 * Waits until `count` recipients have reached the provider; fails if the worker dies or nothing
 * arrives for two minutes, rather than waiting forever.
 */
async function waitForRecipients(provider: Provider, count: number, worker: Child): Promise<ProviderStats> {
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const stats = await provider.stats();
    if (stats.recipients >= count) return stats;
    if (worker.process.exitCode !== null) throw new Error(`the worker exited with ${worker.process.exitCode}:\n${worker.lines.slice(-20).join('\n')}`);
    if (stats.recipients !== last) [last, lastChange] = [stats.recipients, Date.now()];
    if (Date.now() - lastChange > 120_000) throw new Error(`stalled at ${stats.recipients} of ${count} recipients:\n${worker.lines.slice(-20).join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Bare BullMQ: `provider` given, one SendGrid call per job; without it, an empty processor. */
export async function runBare(options: { provider?: Provider; concurrency: number; count: number }): Promise<SendRun> {
  const { provider, concurrency, count } = options;
  const redis = await startPrivateRedis();
  const prefix = `bare-${Date.now()}`;
  const queue = new Queue('bare-sends', { connection: redis.client, prefix });
  const child = startChild([...tsxNode, 'scripts/bench/bare-sender.ts'], {
    REDIS_URL: redis.url,
    QUEUE_PREFIX: prefix,
    CONCURRENCY: String(concurrency),
    EXPECTED: String(count),
    ...(provider ? { PROVIDER_URL: provider.url } : {}),
  });
  let sampler: ReturnType<typeof sampleRun> | undefined;
  try {
    await child.waitForLine((line) => line === 'ready');
    await provider?.reset();
    const pid = child.process.pid!;
    const cpuBefore = processStats(pid).cpuSeconds;
    const pids = { worker: pid, redis: redis.pid };
    const cpuAtStart = readCpu(pids);
    sampler = sampleRun({ redis, pid });
    const startedAt = Date.now();
    for (let i = 0; i < count; i += 1_000) {
      await queue.addBulk(
        Array.from({ length: Math.min(1_000, count - i) }, (_, j) => ({ name: 'send', data: { email: `reader-${i + j}@example.com`, name: `Reader ${i + j}` } })),
      );
    }
    const { done } = JSON.parse(await child.waitForLine((line) => line.startsWith('{"done"'), 600_000)) as { done: number };
    const stats = provider ? await provider.stats() : null;
    return finishRun({
      system: provider ? 'bare-client' : 'bare-empty',
      latencyMs: provider?.latencyMs ?? null,
      concurrency,
      batchSize: null,
      recipients: count,
      startedAt,
      endedAt: stats?.lastAt ?? done,
      pid,
      cpuBefore,
      pids,
      cpuAtStart,
      sampled: await sampler.stop(),
      provider: stats,
    });
  } finally {
    await sampler?.stop();
    await stopChild(child);
    await queue.close();
    await redis.close();
  }
}

/** Settings left out keep the worker's defaults. */
export type HeraldRunOptions = {
  provider: Provider;
  concurrency?: number;
  batchSize?: number;
  count: number;
  ratePerSecond?: number | null;
  /** Note the worker's RSS when this many recipients have been sent. */
  milestones?: number[];
  profileDir?: string;
};

let databaseCount = 0;

/** Herald end to end, from POST /send to the last recipient at the provider. */
export async function runHerald(options: HeraldRunOptions): Promise<SendRun> {
  const { provider, count } = options;
  const redis = await startPrivateRedis();
  const prefix = `herald-${Date.now()}`;
  const web = await startWebProcess(`herald_bench_send_${process.pid}_${(databaseCount += 1)}`, {
    REDIS_URL: redis.url,
    QUEUE_PREFIX: prefix,
  });
  let worker: Awaited<ReturnType<typeof startHeraldWorker>> | undefined;
  let sampler: ReturnType<typeof sampleRun> | undefined;
  try {
    await seedAudience(web.db, count);
    worker = await startHeraldWorker({
      databaseUrl: web.databaseUrl,
      redisUrl: redis.url,
      queuePrefix: prefix,
      providerUrl: provider.url,
      concurrency: options.concurrency,
      batchSize: options.batchSize,
      ratePerSecond: options.ratePerSecond,
      profileDir: options.profileDir,
    });
    await provider.reset();
    const cpuBefore = processStats(worker.pid).cpuSeconds;
    const pids = { worker: worker.pid, web: web.pid, redis: redis.pid };
    const cpuAtStart = readCpu(pids);
    sampler = sampleRun({
      redis,
      pid: worker.pid,
      metrics: { url: worker.metricsUrl, token: benchMetricsToken },
      sent: async () => (await provider.stats()).recipients,
      milestones: options.milestones,
    });
    const startedAt = Date.now();
    const { answerMs } = await postSend(web.url, count);
    const stats = await waitForRecipients(provider, count, worker.child);
    return finishRun({
      system: worker.sendBatchSize > 1 ? 'herald-batched' : 'herald',
      latencyMs: provider.latencyMs,
      concurrency: worker.concurrency,
      batchSize: worker.sendBatchSize,
      recipients: count,
      startedAt,
      endedAt: stats.lastAt,
      pid: worker.pid,
      cpuBefore,
      pids,
      cpuAtStart,
      sampled: await sampler.stop(),
      provider: stats,
      sendAnswerMs: answerMs,
    });
  } finally {
    await sampler?.stop();
    if (worker) await stopChild(worker.child);
    await web.close();
    await redis.close();
  }
}
