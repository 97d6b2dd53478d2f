/**
 * Scenario 6: 200 signups a second for 30 s against the web process while a campaign sends. Every
 * signup answers 2xx and is stored, and the campaign still reaches everyone exactly once.
 */
import { Agent, request } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createFaultStack } from './support/harness.js';
import type { FaultStack } from './support/harness.js';
import { pollUntil, sleep } from './support/poll.js';
import { recordResult } from './support/results.js';

const recipients = 2_000;
const perSecond = 200;
const seconds = 30;
let stack: FaultStack;

beforeAll(async () => {
  stack = await createFaultStack({ name: 'load-while-sending' });
  await stack.seedAudience(recipients);
  await stack.startWorker();
});
afterAll(async () => {
  await stack?.close();
});

it(`stores ${perSecond * seconds} signups with zero errors while a campaign sends`, async () => {
  const started = Date.now();
  const { campaignId } = await stack.sendCampaign();
  await pollUntil('sending to start', async () => ((await stack.deliveryCounts(campaignId)).sent ?? 0) >= 20, 60_000, 50);

  const outcomes: Promise<number | string>[] = [];
  const loadStarted = Date.now();
  // Open loop: every tick sends whatever is due by the clock, so a late timer catches up instead of
  // lowering the rate, and a slow answer never holds back the next request.
  for (let issued = 0; issued < perSecond * seconds; ) {
    const due = Math.min(perSecond * seconds, Math.floor(((Date.now() - loadStarted) * perSecond) / 1000) + 1);
    for (; issued < due; issued++) {
      outcomes.push(register(`${stack.webUrl}/register`, { email: `load-${issued}@example.org`, name: `Load ${issued}` }));
    }
    await sleep(10);
  }
  const issuedSeconds = (Date.now() - loadStarted) / 1000;
  const results = await Promise.all(outcomes);
  const loadSeconds = (Date.now() - loadStarted) / 1000;
  agent.destroy();
  const errors = results.filter((result) => typeof result !== 'number' || result >= 300);
  const offeredPerSecond = results.length / issuedSeconds;
  const { rows } = await stack.db.query<{ count: number }>("SELECT count(*)::int AS count FROM subscribers WHERE email LIKE 'load-%@example.org'");

  await stack.waitUntilDone(campaignId, 180_000);
  const tally = await stack.tally(campaignId);
  recordResult({
    scenario: 'load-while-sending',
    recipients: tally.recipients,
    received: tally.received,
    missing: tally.missing,
    duplicates: tally.duplicates,
    seconds: (Date.now() - started) / 1000,
    notes: `${results.length} signups sent over ${issuedSeconds.toFixed(1)} s (${offeredPerSecond.toFixed(0)}/s), all answered after ${loadSeconds.toFixed(1)} s; ${errors.length} errors, ${rows[0]?.count} stored`,
  });
  expect(errors).toEqual([]);
  expect(rows[0]?.count).toBe(perSecond * seconds);
  expect(tally).toMatchObject({ recipients, received: recipients, missing: 0, duplicates: 0 });
});

/**
 * A keep-alive pool, as a proxy in front of the web would hold: requests beyond 64 at once wait for a
 * socket in the client instead of opening thousands of connections. Like a proxy configured well, it
 * closes an idle socket before the web's keep-alive timeout does: Node's agent honours the server's
 * `Keep-Alive: timeout=5` hint only when it has a timeout of its own, and without that a request
 * could go out on a socket the web was closing that instant (ECONNRESET, no answer from the web).
 */
const agent = new Agent({ keepAlive: true, maxSockets: 64, timeout: 60_000 });

/** POSTs JSON; resolves with the status, or the error's code when no answer came. */
function register(url: string, body: object): Promise<number | string> {
  const payload = JSON.stringify(body);
  return new Promise((resolve) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end(payload);
  });
}
