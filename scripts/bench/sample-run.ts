/**
 * Samples a running system every 250 ms until stopped: Redis memory, the worker's RSS, and for
 * Herald its /metrics (send jobs running, queries waiting for a pool connection, event-loop delay).
 * Given the count of recipients at the provider, it also notes the worker's RSS when that count first
 * reaches each milestone (10k, 100k, 1M sent).
 */
import { processStats } from './child-processes.js';

export type Sampled = {
  redisPeakMb: number;
  rssPeakMb: number;
  /** Worker RSS (MB) when the recipients at the provider first reached each milestone. */
  rssAtSentMb: Record<string, number>;
  jobsRunningAverage?: number;
  dbPoolWaitingAverage?: number;
  /** The event loop's 99th-percentile delay in each scrape window: the typical window, and the worst. */
  eventLoopP99MedianMs?: number;
  eventLoopP99MaxMs?: number;
};

type SampleOptions = {
  redis: { usedMemoryMb(): Promise<number> };
  pid: number;
  metrics?: { url: string; token: string };
  sent?: () => Promise<number>;
  milestones?: number[];
};

export function sampleRun({ redis, pid, metrics, sent, milestones = [] }: SampleOptions) {
  let redisPeak = 0;
  let rssPeak = 0;
  const rssAtSent: Record<string, number> = {};
  const series: Record<string, number[]> = {};
  let stopped = false;

  // The worker's peaks and event-loop percentile cover the time since its previous scrape, so the
  // first scrape covers the worker's start, not the run: it only opens the first window.
  let primed = false;
  async function sampleMetrics(url: string, token: string) {
    const text = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
      .then((res) => res.text())
      .catch(() => '');
    if (!primed) {
      primed = text !== '';
      return;
    }
    for (const line of text.split('\n')) {
      const match = /^(herald_worker_[a-z0-9_]+) ([0-9.e+-]+)$/.exec(line);
      if (match) (series[match[1]!] ??= []).push(Number(match[2]));
    }
  }

  async function sampleOnce() {
    redisPeak = Math.max(redisPeak, await redis.usedMemoryMb().catch(() => 0));
    let rss = 0;
    try {
      rss = processStats(pid).rssMb;
    } catch {
      // The process is gone; the run is over.
    }
    rssPeak = Math.max(rssPeak, rss);
    if (rss > 0 && sent && milestones.some((milestone) => rssAtSent[milestone] === undefined)) {
      const count = await sent().catch(() => 0);
      for (const milestone of milestones) if (count >= milestone && rssAtSent[milestone] === undefined) rssAtSent[milestone] = rss;
    }
    if (metrics) await sampleMetrics(metrics.url, metrics.token);
  }

  const loop = (async () => {
    while (!stopped) {
      await sampleOnce();
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();

  const average = (name: string) => {
    const values = series[name];
    return values?.length ? values.reduce((sum, value) => sum + value, 0) / values.length : undefined;
  };
  return {
    async stop(): Promise<Sampled> {
      stopped = true;
      await loop;
      // Once more at the end, so the last milestone (the whole audience sent) has its figure.
      await sampleOnce();
      const eventLoop = series.herald_worker_event_loop_delay_p99_seconds;
      return {
        redisPeakMb: redisPeak,
        rssPeakMb: rssPeak,
        rssAtSentMb: rssAtSent,
        jobsRunningAverage: average('herald_worker_send_jobs_running'),
        dbPoolWaitingAverage: average('herald_worker_db_pool_waiting'),
        eventLoopP99MedianMs: eventLoop?.length ? median(eventLoop) * 1000 : undefined,
        eventLoopP99MaxMs: eventLoop?.length ? Math.max(...eventLoop) * 1000 : undefined,
      };
    },
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
