/**
 * A minimal SendGrid stand-in for throughput runs, in a process of its own: answers every
 * POST /v3/mail/send with 202 and an X-Message-Id after LATENCY_MS, counts each recipient, and
 * samples how many requests are open (in flight) every 10 ms. GET /stats reads the figures,
 * DELETE /stats starts them again. It parses the JSON body (to count recipients) and does nothing
 * else, so at a thousand requests a second it is not what binds (the mail sink validates every
 * request and keeps an inbox). Prints its port on stdout.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const latencyMs = Number(process.env.LATENCY_MS ?? 0);
let open = 0;
let requests = 0;
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

function answer(res: http.ServerResponse) {
  open -= 1;
  lastAt = Date.now();
  res.writeHead(202, { 'x-message-id': randomBytes(16).toString('base64url') }).end();
}

const server = http.createServer((req, res) => {
  if (req.url === '/stats') {
    if (req.method === 'DELETE') {
      requests = 0;
      perRecipient = new Map();
      firstAt = lastAt = openSum = openSamples = openPeak = 0;
      return res.writeHead(204).end();
    }
    const counts = [...perRecipient.values()];
    return res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        requests,
        recipients: counts.length,
        duplicates: counts.filter((count) => count > 1).length,
        inFlightAverage: openSamples > 0 ? openSum / openSamples : 0,
        inFlightPeak: openPeak,
        firstAt,
        lastAt,
      }),
    );
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
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { personalizations?: { to?: { email?: string }[] }[] };
      for (const personalization of body.personalizations ?? []) {
        for (const to of personalization.to ?? []) {
          if (to.email) perRecipient.set(to.email, (perRecipient.get(to.email) ?? 0) + 1);
        }
      }
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
