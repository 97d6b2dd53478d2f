/**
 * The baseline: bare BullMQ, one job per recipient, whose processor makes one call through the
 * official @sendgrid/mail client (Herald's own mailer, without anything around it). Runs in a
 * process of its own, like Herald's worker, until SIGTERM. Prints "ready" once it is waiting for jobs.
 */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { createSendGridMailer } from '../../apps/worker/src/mail/sendgrid.js';

const env = process.env as Record<string, string>;
const connection = new Redis(env.REDIS_URL!, { maxRetriesPerRequest: null });
const mailer = createSendGridMailer({ apiKey: 'SG.bench', apiUrl: env.PROVIDER_URL!, timeoutMs: 15_000, from: { email: 'bench@example.com' } });
const worker = new Worker(
  'bare-sends',
  async (job) => {
    await mailer.send({ to: { email: job.data.email }, subject: 'Bench', html: '<p>Hi</p>', text: 'Hi', headers: {}, customArgs: {} });
  },
  { connection, prefix: env.QUEUE_PREFIX, concurrency: Number(env.CONCURRENCY), removeOnComplete: { count: 1_000 } },
);
await worker.waitUntilReady();
console.log('ready');
process.on('SIGTERM', () => {
  void worker.close().then(() => process.exit(0));
});
