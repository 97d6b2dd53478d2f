/**
 * A minimal SendGrid stand-in for the bench, in a process of its own: answers every
 * POST /v3/mail/send with 202 and an X-Message-Id after LATENCY_MS, counts requests and recipients
 * (personalizations), and samples how many requests are open (in flight) every 10 ms. GET /stats
 * reads the figures, DELETE /stats starts them again. It parses the JSON body and does nothing else,
 * so at thousands of requests a second it is not what binds (the mail sink validates every request
 * and keeps an inbox). Prints its port on stdout.
 *
 * A recipient is known by `custom_args.herald_delivery_id`, the personalization's custom_args merged
 * over the message's (as SendGrid merges them), else by its first `to` address: that is what makes
 * "each recipient exactly once" hold for batched requests as well as for one request per recipient.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

type Personalization = { to?: { email?: string }[]; custom_args?: Record<string, string> };
type MailBody = { personalizations?: Personalization[]; custom_args?: Record<string, string> };

const latencyMs = Number(process.env.LATENCY_MS ?? 0);
let open = 0;
let requests = 0;
let recipients = 0;
let duplicates = 0;
let perRecipient = new Map<string, number>();
let firstAt = 0;
let lastAt = 0;
let openSum = 0;
let openSamples = 0;
let openPeak = 0;

setInterval(() => {
  // Only while a run is sending, so the average is over the run and not the idle time around it.
  if (firstAt === 0 || Date.now() - lastAt > 500) return;
  openSum += open;
  openSamples += 1;
}, 10).unref();

function countRecipients(body: MailBody): void {
  for (const personalization of body.personalizations ?? []) {
    recipients += 1;
    const args = { ...body.custom_args, ...personalization.custom_args };
    const key = args.herald_delivery_id ?? personalization.to?.[0]?.email ?? `unnamed-${recipients}`;
    const count = (perRecipient.get(key) ?? 0) + 1;
    perRecipient.set(key, count);
    // Counted as it happens, so /stats stays cheap with a million recipients in the map.
    if (count === 2) duplicates += 1;
  }
}

function answer(res: http.ServerResponse) {
  open -= 1;
  lastAt = Date.now();
  res.writeHead(202, { 'x-message-id': randomBytes(16).toString('base64url') }).end();
}

function stats() {
  return {
    requests,
    recipients,
    distinctRecipients: perRecipient.size,
    duplicates,
    inFlightAverage: openSamples > 0 ? openSum / openSamples : 0,
    inFlightPeak: openPeak,
    firstAt,
    lastAt,
  };
}

const server = http.createServer((req, res) => {
  if (req.url === '/stats') {
    if (req.method === 'DELETE') {
      requests = recipients = duplicates = 0;
      perRecipient = new Map();
      firstAt = lastAt = openSum = openSamples = openPeak = 0;
      return res.writeHead(204).end();
    }
    return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats()));
  }
  const chunks: Buffer[] = [];
  open += 1;
  openPeak = Math.max(openPeak, open);
  if (firstAt === 0) firstAt = Date.now();
  lastAt = Date.now();
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    requests += 1;
    try {
      countRecipients(JSON.parse(Buffer.concat(chunks).toString('utf8')) as MailBody);
    } catch {
      // Counted as a request; a body that is not JSON names no recipient.
    }
    if (latencyMs > 0) setTimeout(() => answer(res), latencyMs);
    else answer(res);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ port: (server.address() as AddressInfo).port }));
});
process.on('SIGTERM', () => process.exit(0));
