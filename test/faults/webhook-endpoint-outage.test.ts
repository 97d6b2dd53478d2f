/**
 * Scenario: an outbound webhook endpoint is down for 30 s (its port closed: every attempt is
 * refused) while 200 people sign up and a campaign is sent, then it comes back. Every event
 * reaches it, each with a valid signature, and none twice: the at-least-once window (a worker
 * dying between the endpoint's answer and its record) is never opened here.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { createFaultStack, freePort } from './support/harness.js';
import type { FaultStack } from './support/harness.js';
import { pollUntil } from './support/poll.js';
import { recordResult } from './support/results.js';

const signups = 200;
const outageMs = 30_000;
let stack: FaultStack;
let port: number;
let server: Server | undefined;
const received: { headers: Record<string, string>; body: string }[] = [];

function listen(): Promise<void> {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers as Record<string, string>, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(204).end();
    });
  });
  return new Promise((resolve) => server!.listen(port, '127.0.0.1', resolve));
}

beforeAll(async () => {
  const allowPrivate = { WEBHOOK_ALLOW_PRIVATE: 'true' };
  stack = await createFaultStack({
    name: 'webhook-endpoint-outage',
    webEnv: allowPrivate,
    workerEnv: { ...allowPrivate, WEBHOOK_RETRY_BASE_MS: '250', WEBHOOK_TIMEOUT_MS: '2000', WEBHOOK_DISPATCH_EVERY_MS: '200' },
  });
  port = await freePort();
  await stack.seedAudience(50);
  await stack.startWorker();
});
afterAll(async () => {
  server?.closeAllConnections();
  server?.close();
  await stack?.close();
});

it('delivers every event once, signed, after the endpoint comes back from 30 s down', async () => {
  const started = Date.now();
  const created = await stack.request('POST', '/webhook-endpoints', {
    url: `http://127.0.0.1:${port}/hooks`,
    events: ['subscriber.created', 'campaign.started', 'campaign.sent'],
  });
  expect(created.status).toBe(201);
  const { secret } = (await created.json()) as { secret: string };

  // Down: nothing listens on the port.
  const emails = Array.from({ length: signups }, (_, i) => `outage-${i}@example.com`);
  for (const email of emails) {
    const res = await fetch(`${stack.webUrl}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email }) });
    expect(res.status, email).toBeLessThan(300);
  }
  const { campaignId } = await stack.sendCampaign('Outage issue');
  await pollUntil('attempts refused during the outage', async () => {
    const { rows } = await stack.db.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_attempts WHERE error IS NOT NULL');
    return rows[0]!.n >= signups;
  }, outageMs, 200);
  const elapsed = Date.now() - started;
  if (elapsed < outageMs) await new Promise((resolve) => setTimeout(resolve, outageMs - elapsed));
  const { rows: during } = await stack.db.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_attempts');
  await listen();
  const upAt = Date.now();

  // A subscriber.created per signup, and the campaign's started and sent.
  const expected = signups + 2;
  await pollUntil('every delivery delivered', async () => {
    const { rows } = await stack.db.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM webhook_deliveries GROUP BY status');
    const byStatus = Object.fromEntries(rows.map((row) => [row.status, row.n]));
    return byStatus.delivered === expected && !byStatus.pending && !byStatus.failed;
  }, 180_000, 250);

  const verifier = new Webhook(secret);
  const events = received.map((request) => verifier.verify(request.body, request.headers) as { id: string; type: string; data: { subscriber?: { email: string }; campaign?: { id: string } } });
  const ids = events.map((event) => event.id);
  const duplicates = ids.length - new Set(ids).size;
  const gotEmails = new Set(events.filter((event) => event.type === 'subscriber.created').map((event) => event.data.subscriber!.email));
  const missing = emails.filter((email) => !gotEmails.has(email)).length;
  recordResult({
    scenario: 'webhook-endpoint-outage',
    recipients: expected,
    received: new Set(ids).size,
    missing,
    duplicates,
    seconds: (Date.now() - started) / 1000,
    notes: `endpoint down ${(outageMs / 1000).toFixed(0)} s (${during[0]!.n} attempts refused), every event delivered ${((Date.now() - upAt) / 1000).toFixed(1)} s after it came back; ${events.length} signed requests, all verified`,
  });
  expect({ missing, duplicates }).toEqual({ missing: 0, duplicates: 0 });
  expect(events.filter((event) => event.type.startsWith('campaign.') && event.data.campaign?.id === campaignId).map((event) => event.type).sort()).toEqual([
    'campaign.sent',
    'campaign.started',
  ]);
});
