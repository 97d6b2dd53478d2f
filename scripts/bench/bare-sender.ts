/**
 * The baselines: bare BullMQ, one job per recipient. With PROVIDER_URL set, the processor makes one
 * call through the official @sendgrid/mail client (Herald's own mailer, without anything around it),
 * tagging it with the job's recipient id as Herald does; without it the processor is empty, which is
 * BullMQ's own ceiling on this machine. Runs in a process of its own, like Herald's worker, until
 * SIGTERM. Prints "ready" once it is waiting for jobs, and `{"done":<epoch ms>}` when EXPECTED jobs
 * have completed.
 */
import { Worker } from 'bullmq';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { createSendGridMailer } from '../../apps/worker/src/mail/sendgrid.js';

const env = process.env as Record<string, string>;
const expected = Number(env.EXPECTED);
const connection = new Redis(env.REDIS_URL!, { maxRetriesPerRequest: null });
const mailer = env.PROVIDER_URL
  ? createSendGridMailer({ apiKey: 'SG.bench', apiUrl: env.PROVIDER_URL, timeoutMs: 15_000, from: { email: 'bench@example.com' } })
  : undefined;

async function send(job: Job<{ email: string }>): Promise<void> {
  await mailer?.send({
    to: { email: job.data.email },
    subject: 'Bench',
    html: '<p>Hi</p>',
    text: 'Hi',
    headers: {},
    customArgs: { herald_delivery_id: job.id! },
  });
}

let completed = 0;
const worker = new Worker('bare-sends', send, {
  connection,
  prefix: env.QUEUE_PREFIX,
  concurrency: Number(env.CONCURRENCY),
  removeOnComplete: { count: 1_000 },
});
worker.on('completed', () => {
  completed += 1;
  if (completed === expected) console.log(JSON.stringify({ done: Date.now() }));
});
await worker.waitUntilReady();
console.log('ready');
process.on('SIGTERM', () => {
  void worker.close().then(() => process.exit(0));
});
