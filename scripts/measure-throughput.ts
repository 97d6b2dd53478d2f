/**
 * Send throughput of the whole Herald path (POST /send → fan-out → claim → SendGrid client → mark
 * sent) against bare BullMQ doing only the HTTP call, on the same machine in the same run, both
 * talking to the mail sink with no injected latency. Usage:
 *   npm run measure:throughput [-- recipients concurrency latencyMs]
 */
import { Queue, Worker } from 'bullmq';
import { closeQueues, createLogger, createQueues, createWorkerConnection, loadEmailLayout } from '@herald/shared';
import { startMailSink } from '../apps/mail-sink/src/start.js';
import { loadConfig as loadWorkerConfig } from '../apps/worker/src/config.js';
import { createSendGridMailer } from '../apps/worker/src/mail/sendgrid.js';
import { instrumentMailer } from '../apps/worker/src/ops/instrument-mailer.js';
import { createWorkerMetrics } from '../apps/worker/src/ops/worker-metrics.js';
import { startWorkers } from '../apps/worker/src/workers.js';
import { benchAdminToken, startBenchWeb } from './bench-web.js';

const recipients = Number(process.argv[2] ?? 5_000);
const concurrency = Number(process.argv[3] ?? 20);
/** SendGrid answers in tens of milliseconds from a cloud region; 0 measures Herald's own overhead. */
const latencyMs = Number(process.argv[4] ?? 0);
const prefix = `bench-${Date.now()}`;
const apiKey = 'SG.bench';

async function waitUntil(check: () => Promise<boolean> | boolean) {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 20));
}

const sink = await startMailSink({ apiKey, inboxLimit: recipients * 2 });
sink.faults.update({ latencyMs });
const logger = createLogger({ name: 'bench', level: 'silent' });

// Bare BullMQ: one job per recipient whose processor only makes the SendGrid call.
const bareConnection = createWorkerConnection('redis://127.0.0.1:6379');
const bareQueue = new Queue('bare-sends', { connection: bareConnection, prefix });
const mailer = createSendGridMailer({ apiKey, apiUrl: sink.url, timeoutMs: 15_000, from: { email: 'bench@example.com' } });
let bareDone = 0;
const bareStarted = performance.now();
const bareWorker = new Worker(
  'bare-sends',
  async (job) => {
    await mailer.send({ to: { email: job.data.email }, subject: 'Bench', html: '<p>Hi</p>', text: 'Hi', headers: {}, customArgs: {} });
    bareDone += 1;
  },
  { connection: bareConnection, prefix, concurrency },
);
for (let i = 0; i < recipients; i += 1_000) {
  await bareQueue.addBulk(
    Array.from({ length: Math.min(1_000, recipients - i) }, (_, j) => ({ name: 'send', data: { email: `reader-${i + j}@example.com` } })),
  );
}
await waitUntil(() => bareDone >= recipients);
const bareSeconds = (performance.now() - bareStarted) / 1000;
await bareWorker.close();
await bareQueue.obliterate({ force: true });
await bareQueue.close();
sink.inbox.clear();
sink.stats.reset();

// Herald: the real web app and workers over Postgres and Redis.
const web = await startBenchWeb('herald_bench_throughput', { QUEUE_PREFIX: prefix });
const db = web.db;
const workerConfig = loadWorkerConfig({
  LOG_LEVEL: 'silent',
  DATABASE_URL: web.config.databaseUrl,
  QUEUE_PREFIX: prefix,
  SENDGRID_API_KEY: apiKey,
  SENDGRID_API_URL: sink.url,
  MAIL_FROM: 'bench@example.com',
  MAIL_POSTAL_ADDRESS: '1 Bench Street',
  WORKER_CONCURRENCY: String(concurrency),
  SEND_RATE_PER_SECOND: '10000',
});
await db.$executeRaw`
  INSERT INTO subscribers (email, name, status) SELECT 'reader-' || n || '@example.com', 'Reader ' || n, 'active'
  FROM generate_series(1, ${recipients}::int) AS n`;
const workerConnection = createWorkerConnection(workerConfig.redisUrl);
const workerQueues = createQueues(workerConnection, prefix, logger);
// Herald's workers run as in production: with their metrics counting every send.
const metrics = createWorkerMetrics();
const emailLayout = loadEmailLayout(workerConfig.email.brand, workerConfig.email.layoutPath);
const workers = startWorkers(
  { config: workerConfig, db, queues: workerQueues, mailer: instrumentMailer(mailer, metrics), emailLayout, logger, metrics },
  workerConnection,
);

const started = performance.now();
const res = await fetch(`${web.url}/send`, {
  method: 'POST',
  headers: { authorization: `Bearer ${benchAdminToken}`, 'content-type': 'application/json' },
  body: JSON.stringify({ subject: 'Bench {{name}}', body: '<p>Hello {{name}}</p>' }),
});
const { campaignId } = (await res.json()) as { campaignId: string };
await waitUntil(async () => (await db.campaign.findUniqueOrThrow({ where: { id: campaignId } })).status === 'sent');
const heraldSeconds = (performance.now() - started) / 1000;
const delivered = sink.inbox.list().length;
const perRecipient = Object.values(sink.stats.get().byRecipient);

console.log(`machine: ${(await import('node:os')).cpus().length} cores, Node ${process.version}; ${recipients} recipients, concurrency ${concurrency}, provider latency ${latencyMs} ms`);
console.log(`bare BullMQ + SendGrid client: ${recipients} sends in ${bareSeconds.toFixed(2)} s = ${(recipients / bareSeconds).toFixed(0)}/s`);
console.log(`Herald end to end:            ${delivered} sends in ${heraldSeconds.toFixed(2)} s = ${(recipients / heraldSeconds).toFixed(0)}/s`);
console.log(`ratio Herald / bare: ${(bareSeconds / heraldSeconds).toFixed(2)}; every recipient exactly once: ${perRecipient.length === recipients && perRecipient.every((n) => n === 1)}`);

await workers.close();
await closeQueues(workerQueues);
workerConnection.disconnect();
bareConnection.disconnect();
await sink.close();
await web.close();
