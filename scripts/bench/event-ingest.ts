/**
 * SendGrid events applied per second: the web and the worker each in a process of their own
 * (built, production mode, the worker at its defaults) over a private Redis, the provider stand-in
 * answering after 100 ms. A campaign is sent to enough recipients for `eventCount` events and,
 * once the last recipient is at the provider (so the worker's CPU over the timed part is the
 * events' alone), the bench posts the campaign's events to `POST /webhooks/sendgrid` as SendGrid
 * does: batches of 1,000, each signed by the mail sink's own code (sign-event-batch.ts) with a key
 * whose public half the web verifies by, and some batches posted twice, as SendGrid retries a batch
 * whose answer it missed.
 *
 * Timed from the first POST to the moment no stored event is left unprocessed (polled every 50 ms):
 * stored, suppressed and counted in the report aggregates. Then every aggregate is compared with
 * what was posted, so an event lost or counted twice shows. The baseline, in the same run on the
 * same database: the same batches, retries included, each one bare `INSERT ... ON CONFLICT DO
 * NOTHING` into a copy of email_events with its indexes and nothing else (no HTTP, no signature,
 * no references resolved, no worker), from as many connections as there were POSTs in flight.
 *
 * Then the same again while a campaign is sending (measureWhileSending): a second campaign, sized
 * from the rates just seen to outlast the events, and a fresh set of events about its recipients
 * already at the provider, posted and checked the same way. The events have the same shape as the
 * first set (new deliveries, so new first events and new suppressions), so what differs between
 * the two rows is the sending alone; events about the first campaign's recipients would mostly
 * count again recipients already counted, which costs less. The worker that applies them is the
 * one sending, as in production.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import pg from 'pg';
import { serializeEventBatch, signEventBatch } from '../../apps/mail-sink/src/sign-event-batch.js';
import { startWebProcess } from './bench-web.js';
import type { WebProcess } from './bench-web.js';
import { stopChild, waitUntil } from './child-processes.js';
import { cpuBetween, readCpu } from './cpu-usage.js';
import type { CpuPids, CpuUsage } from './cpu-usage.js';
import { startHeraldWorker } from './herald-worker.js';
import { postSend, seedAudience } from './post-send.js';
import { startPrivateRedis } from './private-redis.js';
import { startProvider } from './provider.js';
import type { Provider } from './provider.js';

export type EventIngestResult = {
  /** Recipients of the campaign sent before the events, all of whom they are about. */
  recipients: number;
  /** Distinct events, and the batches posted (retried ones included). */
  events: number;
  batches: number;
  /** Events posted a second time in retried batches: stored once, counted once. */
  duplicates: number;
  /** From the first POST to the last event applied. */
  seconds: number;
  eventsPerSecond: number;
  /** From the first POST to the last one answered: every event stored. */
  postSeconds: number;
  /** CPU seconds over the timed part, per process (the campaign had finished sending before it). */
  cpu: CpuUsage;
  /** The same batches stored by bare INSERTs, same connections in flight: Postgres's floor for storing them. */
  bareInsertSeconds: number;
  bareInsertEventsPerSecond: number;
  /** Every aggregate equals what was posted; otherwise `mismatches` says which. */
  exact: boolean;
  mismatches: string[];
};

/** The same events again, posted while a second campaign is sending (bench-result.ts: eventsWhileSending). */
export type EventsWhileSendingResult = {
  /** The recipients already sent to whom the events are about (the first by delivery id). */
  recipients: number;
  /** The sending campaign's recipients, and how many were at the provider at the first POST and when the last event was applied. */
  campaignRecipients: number;
  sentAtStart: number;
  sentAtEnd: number;
  /** Still sending when the last event was applied; if not, `sendingSeconds` says for how much of the window it was. */
  stillSending: boolean;
  sendingSeconds: number;
  /** Recipients reached per second over the window (while it sent), and the first campaign's rate with nothing else running. */
  sendsPerSecond: number;
  sendsPerSecondAlone: number;
  events: number;
  batches: number;
  duplicates: number;
  seconds: number;
  eventsPerSecond: number;
  postSeconds: number;
  /** CPU seconds over the window, per process: the worker's is the sending's and the events' together. */
  cpu: CpuUsage;
  exact: boolean;
  mismatches: string[];
};

const batchSize = 1_000;
/** Every twentieth batch is posted again, as SendGrid retries a batch whose answer it did not see. */
const retryEvery = 20;
/** POSTs in flight at once: SendGrid posts from several senders at a time. */
const postConcurrency = 4;
const links = ['https://bench.example.com/a', 'https://bench.example.com/b', 'https://bench.example.com/c', 'https://bench.example.com/d'];

type Recipient = { deliveryId: string; email: string };
type Planned = Record<string, unknown> & { event: string };
type Expected = { events: Record<string, number>; uniques: Record<string, number>; clicks: Record<string, { clicks: number; uniques: number }>; bounced: number };

/**
 * The events of recipient number n, as SendGrid reports them: delivered (every 50th bounces
 * instead), opened by 40% (every 20th twice), clicked by 10% on one of four links, whose every
 * third clicks twice.
 */
function eventsOf(recipient: Recipient, n: number, now: number, prefix: string): Planned[] {
  const base = { email: recipient.email, sg_message_id: `${prefix}-${n}`, herald_delivery_id: recipient.deliveryId };
  const event = (name: string, k: number, offsetSeconds: number, extra: Record<string, unknown> = {}) => ({
    ...base,
    event: name,
    sg_event_id: `${prefix}-${n}-${name}-${k}`,
    timestamp: now - 600 + offsetSeconds,
    ...extra,
  });
  if (n % 50 === 49) return [event('bounce', 0, n % 300, { type: 'bounce', status: '5.1.1', reason: '550 5.1.1 No such user' })];
  const planned = [event('delivered', 0, n % 300, { response: '250 OK' })];
  if (n % 5 < 2) planned.push(event('open', 0, 300 + (n % 200)));
  if (n % 20 === 0) planned.push(event('open', 1, 500 + (n % 50)));
  if (n % 10 === 0) {
    const url = links[(n / 10) % links.length]!;
    planned.push(event('click', 0, 320 + (n % 200), { url }));
    if (n % 30 === 0) planned.push(event('click', 1, 560, { url }));
  }
  return planned;
}

const kindOf: Record<string, string> = { delivered: 'delivered', bounce: 'bounced', open: 'opened', click: 'clicked' };

function expectedOf(events: Planned[]): Expected {
  const expected: Expected = { events: {}, uniques: {}, clicks: {}, bounced: 0 };
  const seen = new Set<string>();
  for (const event of events) {
    const kind = kindOf[event.event]!;
    expected.events[kind] = (expected.events[kind] ?? 0) + 1;
    const who = `${kind} ${String(event.herald_delivery_id)}`;
    if (!seen.has(who)) {
      seen.add(who);
      expected.uniques[kind] = (expected.uniques[kind] ?? 0) + 1;
      if (kind === 'bounced') expected.bounced += 1;
    }
    if (kind === 'clicked') {
      const link = (expected.clicks[String(event.url)] ??= { clicks: 0, uniques: 0 });
      link.clicks += 1;
      if (Number(String(event.sg_event_id).at(-1)) === 0) link.uniques += 1;
    }
  }
  return expected;
}

/** Enough recipients for `count` events: eventsOf gives about 1.58 each, and the plan is cut at `count`. */
export const recipientsFor = (count: number) => Math.ceil(count / 1.5);

async function postBatch(url: string, key: KeyObject, body: Buffer): Promise<void> {
  const res = await fetch(`${url}/webhooks/sendgrid`, { method: 'POST', headers: signEventBatch(key, body), body });
  if (res.status !== 200) throw new Error(`POST /webhooks/sendgrid answered ${res.status}: ${await res.text()}`);
  await res.arrayBuffer();
}

/** The batches as the bare baseline stores them: the columns of email_events, references already known. */
function bareRows(body: Buffer, subscriberOf: Map<string, string>): string {
  const events = JSON.parse(body.toString()) as Planned[];
  return JSON.stringify(
    events.map((event) => ({
      dedupe_key: event.sg_event_id,
      type: event.event,
      occurred_at: event.timestamp,
      delivery_id: event.herald_delivery_id,
      subscriber_id: subscriberOf.get(String(event.herald_delivery_id)) ?? null,
      payload: event,
    })),
  );
}

async function bareInsert(databaseUrl: string, posts: Buffer[], subscriberOf: Map<string, string>): Promise<number> {
  const clients = Array.from({ length: postConcurrency }, () => new pg.Client({ connectionString: databaseUrl }));
  await Promise.all(clients.map((client) => client.connect()));
  try {
    await clients[0]!.query('CREATE TABLE bench_bare_events (LIKE email_events INCLUDING DEFAULTS INCLUDING INDEXES)');
    const bodies = posts.map((body) => bareRows(body, subscriberOf));
    const started = performance.now();
    let next = 0;
    await Promise.all(
      clients.map(async (client) => {
        while (next < bodies.length) {
          await client.query(
            `INSERT INTO bench_bare_events (dedupe_key, type, occurred_at, delivery_id, subscriber_id, payload)
             SELECT i.dedupe_key, i.type, to_timestamp(i.occurred_at) AT TIME ZONE 'UTC', i.delivery_id, i.subscriber_id, i.payload
             FROM jsonb_to_recordset($1::jsonb) AS i(dedupe_key text, type text, occurred_at float8, delivery_id uuid, subscriber_id uuid, payload jsonb)
             ON CONFLICT (dedupe_key) DO NOTHING`,
            [bodies[(next += 1) - 1]!],
          );
        }
      }),
    );
    return (performance.now() - started) / 1000;
  } finally {
    await Promise.all(clients.map((client) => client.end()));
  }
}

/**
 * The first `eventCount` events of `recipients`, in time order (SendGrid reports deliveries first,
 * engagement after), their sg_event_ids starting with `prefix`.
 */
function planEvents(recipients: Recipient[], eventCount: number, prefix: string): Planned[] {
  const now = Math.floor(Date.now() / 1000);
  const planned = recipients.flatMap((recipient, n) => eventsOf(recipient, n, now, prefix)).slice(0, eventCount);
  return planned.sort((a, b) => (a.timestamp as number) - (b.timestamp as number));
}

type Applied = { posts: Buffer[]; duplicates: number; startedAt: number; postedAt: number; endedAt: number; cpu: CpuUsage };

/**
 * Posts `planned` as SendGrid does (signed batches of 1,000, 4 in flight, every twentieth batch
 * twice) and waits until no stored event is left unprocessed; CPU of `pids` over that window.
 */
async function postAndApply(webUrl: string, db: WebProcess['db'], key: KeyObject, planned: Planned[], pids: CpuPids): Promise<Applied> {
  const bodies: Buffer[] = [];
  for (let i = 0; i < planned.length; i += batchSize) bodies.push(serializeEventBatch(planned.slice(i, i + batchSize)));
  const posts = bodies.flatMap((body, i) => (i % retryEvery === retryEvery - 1 ? [body, body] : [body]));
  const duplicates = bodies.filter((_, i) => i % retryEvery === retryEvery - 1).reduce((sum, body) => sum + (JSON.parse(body.toString()) as unknown[]).length, 0);

  const cpuAtStart = readCpu(pids);
  const startedAt = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: postConcurrency }, async () => {
      while (next < posts.length) await postBatch(webUrl, key, posts[(next += 1) - 1]!);
    }),
  );
  const postedAt = Date.now();
  const deadline = postedAt + 600_000;
  await waitUntil(async () => {
    const [row] = await db.$queryRaw<{ pending: boolean }[]>`SELECT EXISTS (SELECT 1 FROM email_event_backlog) AS pending`;
    if (Date.now() > deadline) throw new Error('events still unprocessed ten minutes after the last POST');
    return !row!.pending;
  }, 50);
  const endedAt = Date.now();
  return { posts, duplicates, startedAt, postedAt, endedAt, cpu: cpuBetween(cpuAtStart, readCpu(pids)) };
}

/** Waits until the provider has seen `count` recipients, failing after ten minutes. */
async function waitForRecipients(provider: Provider, count: number): Promise<void> {
  const deadline = Date.now() + 600_000;
  await waitUntil(async () => {
    if (Date.now() > deadline) throw new Error(`${count} recipients had not reached the provider ten minutes after POST /send`);
    return (await provider.stats()).recipients >= count;
  }, 200);
}

export type EventIngestRun = { alone: EventIngestResult; whileSending: EventsWhileSendingResult | { error: string } | null };

/**
 * With `profileDirs`, the worker and the web each write a V8 CPU profile of the whole run into
 * theirs. With `whileSending`, the second measurement follows; its failure is returned as its
 * `error`, so the first still counts.
 */
export async function measureEventIngest(eventCount: number, options: { profileDirs?: { worker: string; web: string }; whileSending?: boolean } = {}): Promise<EventIngestRun> {
  const { profileDirs } = options;
  const recipientCount = recipientsFor(eventCount);
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const redis = await startPrivateRedis();
  const provider = await startProvider(100);
  const queuePrefix = `events-${Date.now()}`;
  const web = await startWebProcess(`herald_bench_events_${process.pid}`, {
    REDIS_URL: redis.url,
    QUEUE_PREFIX: queuePrefix,
    SENDGRID_WEBHOOK_PUBLIC_KEY: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
  }, profileDirs?.web);
  const { db } = web;
  let worker: Awaited<ReturnType<typeof startHeraldWorker>> | undefined;
  try {
    await seedAudience(db, recipientCount);
    worker = await startHeraldWorker({ databaseUrl: web.databaseUrl, redisUrl: redis.url, queuePrefix, providerUrl: provider.url, profileDir: profileDirs?.worker });
    await provider.reset();
    const sendStartedAt = Date.now();
    const { campaignId } = await postSend(web.url, recipientCount);
    const recipients = await db.$queryRaw<(Recipient & { subscriberId: string })[]>`
      SELECT d.id AS "deliveryId", s.email, s.id AS "subscriberId" FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
      WHERE d.campaign_id = ${campaignId}::uuid ORDER BY d.id`;
    await waitForRecipients(provider, recipientCount);
    const sendsPerSecondAlone = recipientCount / ((Date.now() - sendStartedAt) / 1000);

    const planned = planEvents(recipients, eventCount, 'bench');
    const pids = { worker: worker.pid, web: web.pid, redis: redis.pid };
    const applied = await postAndApply(web.url, db, privateKey, planned, pids);
    const seconds = (applied.endedAt - applied.startedAt) / 1000;
    const mismatches = await compareAggregates(db, campaignId, expectedOf(planned), planned.length);
    const subscriberOf = new Map(recipients.map((recipient) => [recipient.deliveryId, recipient.subscriberId]));
    const bareInsertSeconds = await bareInsert(web.databaseUrl, applied.posts, subscriberOf);
    const alone: EventIngestResult = {
      recipients: recipientCount,
      events: planned.length,
      batches: applied.posts.length,
      duplicates: applied.duplicates,
      seconds,
      eventsPerSecond: planned.length / seconds,
      postSeconds: (applied.postedAt - applied.startedAt) / 1000,
      cpu: applied.cpu,
      bareInsertSeconds,
      bareInsertEventsPerSecond: planned.length / bareInsertSeconds,
      exact: mismatches.length === 0,
      mismatches,
    };
    if (!options.whileSending) return { alone, whileSending: null };
    const whileSending = await measureWhileSending({
      web,
      provider,
      key: privateKey,
      pids,
      eventCount,
      firstSubscriber: recipientCount + 1,
      eventsPerSecondAlone: alone.eventsPerSecond,
      sendsPerSecondAlone,
    }).catch((err: unknown) => ({ error: err instanceof Error ? err.message : String(err) }));
    return { alone, whileSending };
  } finally {
    if (worker) await stopChild(worker.child);
    await web.close();
    await provider.close();
    await redis.close();
  }
}

/**
 * How much slower than alone the events may be applied while the campaign sends, and the campaign
 * still outlast them, at the rate the first campaign sent with nothing else running: sharing the
 * cores it sends slower than that, so it outlasts them by more. 6, as a reduced run of 50,000
 * events on a loaded machine applied them 3.7× slower while sending, and a campaign sized for 3×
 * finished before the last of them.
 */
const slowdownAllowed = 6;

/**
 * A second campaign to the whole audience, grown past the first campaign's recipients so that it
 * still sends when the last event is applied; once enough of its recipients are at the provider for
 * `eventCount` events, a fresh set of events about them is posted and applied as the first was.
 */
async function measureWhileSending(run: {
  web: WebProcess;
  provider: Provider;
  key: KeyObject;
  pids: CpuPids;
  eventCount: number;
  firstSubscriber: number;
  eventsPerSecondAlone: number;
  sendsPerSecondAlone: number;
}): Promise<EventsWhileSendingResult> {
  const { web, provider, eventCount } = run;
  const { db } = web;
  const delivered = recipientsFor(eventCount);
  const campaignRecipients = delivered + Math.ceil(run.sendsPerSecondAlone * (eventCount / run.eventsPerSecondAlone) * slowdownAllowed);
  // The first set's bounces are suppressed, so they are not in the audience.
  const [active] = await db.$queryRaw<{ count: number }[]>`SELECT count(*)::int AS count FROM subscribers WHERE status = 'active'`;
  await seedAudience(db, campaignRecipients - active!.count, run.firstSubscriber);
  const [before] = await db.$queryRaw<{ events: number; bounced: number }[]>`
    SELECT (SELECT count(*)::int FROM email_events) AS events, (SELECT count(*)::int FROM subscribers WHERE status = 'bounced') AS bounced`;

  await provider.reset();
  const { campaignId } = await postSend(web.url, campaignRecipients);
  await waitForRecipients(provider, delivered);
  // The recipients already sent to: marked `sent` just after the provider answers.
  let recipients: Recipient[] = [];
  await waitUntil(async () => {
    recipients = await db.$queryRaw<Recipient[]>`
      SELECT d.id AS "deliveryId", s.email FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
      WHERE d.campaign_id = ${campaignId}::uuid AND d.status = 'sent' ORDER BY d.id LIMIT ${delivered}`;
    return recipients.length >= delivered;
  }, 200);

  const planned = planEvents(recipients, eventCount, 'bench-sending');
  const atStart = await provider.stats();
  const applied = await postAndApply(web.url, db, run.key, planned, run.pids);
  const atEnd = await provider.stats();
  const mismatches = await compareAggregates(db, campaignId, expectedOf(planned), planned.length, before);
  const seconds = (applied.endedAt - applied.startedAt) / 1000;
  const stillSending = atEnd.recipients < campaignRecipients;
  const sendingSeconds = stillSending ? seconds : Math.max(0, (atEnd.lastAt - applied.startedAt) / 1000);
  return {
    recipients: delivered,
    campaignRecipients,
    sentAtStart: atStart.recipients,
    sentAtEnd: atEnd.recipients,
    stillSending,
    sendingSeconds,
    sendsPerSecond: sendingSeconds > 0 ? (atEnd.recipients - atStart.recipients) / sendingSeconds : 0,
    sendsPerSecondAlone: run.sendsPerSecondAlone,
    events: planned.length,
    batches: applied.posts.length,
    duplicates: applied.duplicates,
    seconds,
    eventsPerSecond: planned.length / seconds,
    postSeconds: (applied.postedAt - applied.startedAt) / 1000,
    cpu: applied.cpu,
    exact: mismatches.length === 0,
    mismatches,
  };
}

/**
 * What differs between the stored events and aggregates and what was posted; empty when nothing
 * does. `before` is what the database held already: events stored and subscribers bounced.
 */
async function compareAggregates(db: WebProcess['db'], campaignId: string, expected: Expected, events: number, before = { events: 0, bounced: 0 }): Promise<string[]> {
  const mismatches: string[] = [];
  const differ = (what: string, got: number, want: number) => {
    if (got !== want) mismatches.push(`${what}: ${got}, posted ${want}`);
  };
  const [stored] = await db.$queryRaw<{ events: number; processed: number }[]>`
    SELECT count(*)::int AS events,
      count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM email_event_backlog b WHERE b.event_id = e.id))::int AS processed
    FROM email_events e`;
  differ('events stored', stored!.events, before.events + events);
  differ('events processed', stored!.processed, before.events + events);
  const hours = await db.$queryRaw<{ kind: string; events: number; uniques: number }[]>`
    SELECT kind, sum(events)::int AS events, sum(uniques)::int AS uniques FROM campaign_event_hours WHERE campaign_id = ${campaignId}::uuid GROUP BY kind`;
  const firsts = await db.$queryRaw<{ kind: string; recipients: number }[]>`
    SELECT kind, count(*)::int AS recipients FROM delivery_event_firsts WHERE campaign_id = ${campaignId}::uuid GROUP BY kind`;
  for (const kind of new Set([...Object.keys(expected.events), ...hours.map((row) => row.kind)])) {
    const hour = hours.find((row) => row.kind === kind);
    differ(`${kind} events`, hour?.events ?? 0, expected.events[kind] ?? 0);
    differ(`${kind} recipients`, hour?.uniques ?? 0, expected.uniques[kind] ?? 0);
    differ(`${kind} first events`, firsts.find((row) => row.kind === kind)?.recipients ?? 0, expected.uniques[kind] ?? 0);
  }
  const clicks = await db.$queryRaw<{ url: string; clicks: number; unique_clicks: number }[]>`
    SELECT url, clicks, unique_clicks FROM campaign_link_clicks WHERE campaign_id = ${campaignId}::uuid`;
  for (const url of new Set([...Object.keys(expected.clicks), ...clicks.map((row) => row.url)])) {
    const row = clicks.find((link) => link.url === url);
    differ(`clicks on ${url}`, row?.clicks ?? 0, expected.clicks[url]?.clicks ?? 0);
    differ(`unique clicks on ${url}`, row?.unique_clicks ?? 0, expected.clicks[url]?.uniques ?? 0);
  }
  const [suppressed] = await db.$queryRaw<{ bounced: number }[]>`SELECT count(*)::int AS bounced FROM subscribers WHERE status = 'bounced'`;
  differ('subscribers suppressed as bounced', suppressed!.bounced, before.bounced + expected.bounced);
  return mismatches;
}
