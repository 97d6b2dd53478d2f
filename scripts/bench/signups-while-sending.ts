/**
 * JSON signups under load while a campaign sends: the web and the worker each in a process of
 * their own (built, production mode, the worker at its default settings), the provider stand-in
 * answering after 100 ms, and `clients` concurrent clients here posting `/register` in a loop for
 * `seconds`, starting with the campaign's `POST /send`. Each signup is new, so each also hands a
 * confirmation email to the worker, as a real signup does.
 *
 * The load is `measureSignups` (signup-load.ts): node:http with keep-alive, as fetch would spend as
 * much CPU per request on this machine as the web spends answering it.
 */
import { startWebProcess } from './bench-web.js';
import { stopChild, waitUntil } from './child-processes.js';
import { startHeraldWorker } from './herald-worker.js';
import { postSend, seedAudience } from './post-send.js';
import { startPrivateRedis } from './private-redis.js';
import { startProvider } from './provider.js';
import { measureSignups } from './signup-load.js';

export type SignupResult = {
  clients: number;
  seconds: number;
  campaignRecipients: number;
  signups: number;
  failed: number;
  signupsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** p99 of the signups sent after the first two seconds, when the web, the load and the worker run warm. */
  p99WarmMs?: number;
  /** From POST /send to the campaign seen `sent` (polled every 250 ms), or null if not within two minutes of the load. */
  campaignSeconds: number | null;
};

export async function measureSignupsWhileSending(options: { clients: number; seconds: number; campaignRecipients: number; ratePerSecond: number | null }): Promise<SignupResult> {
  const { clients, seconds, campaignRecipients } = options;
  const redis = await startPrivateRedis();
  const provider = await startProvider(100);
  const queuePrefix = `signups-${Date.now()}`;
  const web = await startWebProcess(`herald_bench_signups_${process.pid}`, { REDIS_URL: redis.url, QUEUE_PREFIX: queuePrefix });
  const { db, url } = web;
  let worker: Awaited<ReturnType<typeof startHeraldWorker>> | undefined;
  try {
    await seedAudience(db, campaignRecipients);
    worker = await startHeraldWorker({ databaseUrl: web.databaseUrl, redisUrl: redis.url, queuePrefix, providerUrl: provider.url, ratePerSecond: options.ratePerSecond });
    const startedAt = Date.now();
    const [{ campaignId }, load] = await Promise.all([postSend(url, campaignRecipients), measureSignups({ baseUrl: url, clients, durationMs: seconds * 1000 })]);
    const deadline = Date.now() + 120_000;
    let sentAt: number | null = null;
    await waitUntil(async () => {
      const campaign = await db.campaign.findUniqueOrThrow({ where: { id: campaignId }, select: { status: true } });
      if (campaign.status === 'sent') sentAt = Date.now();
      return sentAt !== null || Date.now() > deadline;
    }, 250);
    return {
      clients,
      seconds: load.seconds,
      campaignRecipients,
      signups: load.requests - load.errors,
      failed: load.errors,
      signupsPerSecond: (load.requests - load.errors) / load.seconds,
      p50Ms: load.p50Ms,
      p99Ms: load.p99Ms,
      p99WarmMs: load.p99WarmMs,
      campaignSeconds: sentAt === null ? null : (sentAt - startedAt) / 1000,
    };
  } finally {
    if (worker) await stopChild(worker.child);
    await web.close();
    await provider.close();
    await redis.close();
  }
}
