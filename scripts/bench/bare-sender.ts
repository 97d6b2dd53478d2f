/**
 * The baselines: bare BullMQ, one job per recipient. With PROVIDER_URL set, the processor renders
 * the bench campaign's email for its recipient, exactly as Herald lays it out (the same layout,
 * inlined once, then the per-recipient substitution), and makes one call through the official
 * @sendgrid/mail client as it comes (its own settings, with a timeout), tagging it with the job's
 * recipient id as Herald does: a hand-written sender of the same email, with no claim, no mark and
 * no guarantee. Without PROVIDER_URL the processor is empty, which is BullMQ's own ceiling on this
 * machine. Runs in a process of its own, like Herald's worker, until
 * SIGTERM. Prints "ready" once it is waiting for jobs, and `{"done":<epoch ms>}` when EXPECTED jobs
 * have completed.
 */
import { Worker } from 'bullmq';
import type { Job } from 'bullmq';
import { Client } from '@sendgrid/client';
import { MailService } from '@sendgrid/mail';
import { Redis } from 'ioredis';
import { issueUrl, loadEmailLayout, prepareCampaignContent, renderCampaignEmail, unsubscribeUrl } from '@herald/shared';
import { loadConfig } from '../../apps/worker/src/config.js';
import { benchNewsletterEnv } from './herald-worker.js';
import { benchCampaign } from './post-send.js';

const env = process.env as Record<string, string>;
const expected = Number(env.EXPECTED);
const connection = new Redis(env.REDIS_URL!, { maxRetriesPerRequest: null });
// The newsletter settings Herald's worker runs the bench with, for the same layout, footer and sender.
const config = loadConfig({ NODE_ENV: 'production', ...benchNewsletterEnv, DATABASE_URL: 'postgresql://unused', REDIS_URL: env.REDIS_URL! });
const mailer = env.PROVIDER_URL ? new MailService() : undefined;
if (mailer) {
  const client = new Client();
  client.setApiKey(config.sendgrid.apiKey);
  // setApiKey points the client at SendGrid itself; the stand-in's URL goes in after it.
  client.setDefaultRequest('baseUrl', env.PROVIDER_URL!);
  mailer.setClient(client);
  mailer.setTimeout(15_000);
}
const viewInBrowserUrl = issueUrl(config.publicUrl, '00000000-0000-7000-8000-000000000000');
const content = prepareCampaignContent(
  { subject: benchCampaign.subject, html: benchCampaign.body, text: null },
  loadEmailLayout(config.email.brand, config.email.layoutPath),
  { viewInBrowserUrl },
);

async function send(job: Job<{ email: string; name: string }>): Promise<void> {
  if (!mailer) return;
  const links = { unsubscribeUrl: unsubscribeUrl(config.publicUrl, job.id!), postalAddress: config.mail.postalAddress, viewInBrowserUrl };
  const email = renderCampaignEmail(content, job.data, links);
  await mailer.send({
    from: config.mail.from,
    to: { email: job.data.email, name: job.data.name },
    subject: email.subject,
    html: email.html,
    text: email.text,
    headers: email.headers,
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
