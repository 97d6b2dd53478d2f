/**
 * The mail sink as the fault suite runs it, in a process of its own: Herald's SendGrid stand-in
 * behind a front that adds 20-50 ms of latency to every Mail Send call, can answer a share of calls
 * with 5xx or 429 ("a storm"), and counts per recipient what was requested and what was accepted.
 * Prints `storm-sink listening <url>` once it accepts connections.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createMailSink } from '../../../apps/mail-sink/src/app.js';

type Storm = { serverErrorRate: number; rateLimitRate: number };

const apiKey = process.env.SENDGRID_API_KEY ?? 'SG.faults';
const latency = { min: 20, max: 50 };
const sink = createMailSink({ apiKey, inboxLimit: 100 });
let storm: Storm = { serverErrorRate: 0, rateLimitRate: 0 };
/** Per recipient, how many calls got each HTTP status; `last` is the status of the latest answer. */
type RecipientCounts = Record<string, number> & { last?: number };
const counts = {
  requests: 0,
  byStatus: {} as Record<string, number>,
  byRecipient: {} as Record<string, RecipientCounts>,
};

function recipientsOf(body: unknown): string[] {
  const personalizations = (body as { personalizations?: { to?: { email?: unknown }[] }[] })?.personalizations;
  if (!Array.isArray(personalizations)) return [];
  return personalizations.flatMap((p) => (Array.isArray(p?.to) ? p.to : [])).flatMap((to) => (typeof to?.email === 'string' ? [to.email.toLowerCase()] : []));
}

const app = express();
app.post('/v3/mail/send', express.json({ limit: '30mb', type: () => true }), async (req, res, next) => {
  const recipients = recipientsOf(req.body);
  counts.requests += 1;
  res.on('finish', () => {
    const status = String(res.statusCode);
    counts.byStatus[status] = (counts.byStatus[status] ?? 0) + 1;
    for (const r of recipients) {
      const entry = (counts.byRecipient[r] ??= {});
      entry[status] = (entry[status] ?? 0) + 1;
      entry.last = res.statusCode;
    }
  });
  await new Promise((resolve) => setTimeout(resolve, latency.min + Math.random() * (latency.max - latency.min)));
  const roll = Math.random();
  if (roll < storm.serverErrorRate) {
    res.status(503).json({ errors: [{ message: 'Service unavailable', field: null, help: null }] });
    return;
  }
  if (roll < storm.serverErrorRate + storm.rateLimitRate) {
    res
      .status(429)
      .set({ 'X-RateLimit-Limit': '600', 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': String(Math.floor(Date.now() / 1000) + 1) })
      .json({ errors: [{ message: 'too many requests', field: null, help: null }] });
    return;
  }
  next();
});
app.put('/storm', express.json(), (req, res) => {
  storm = { serverErrorRate: Number(req.body?.serverErrorRate ?? 0), rateLimitRate: Number(req.body?.rateLimitRate ?? 0) };
  res.json(storm);
});
app.get('/counts', (_req, res) => {
  res.json(counts);
});
// Everything else (the body is already parsed; the sink's own parser leaves it be) goes to the sink.
app.use(sink.app);

const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
await once(server, 'listening');
console.log(`storm-sink listening http://127.0.0.1:${(server.address() as AddressInfo).port}`);
process.on('SIGTERM', () => process.exit(0));
