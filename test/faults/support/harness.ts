/**
 * One scenario's world: a database cloned from the suite's migrated template on the suite's own
 * Postgres, a Redis of its own, and Herald's web, worker(s) and the mail sink as separate processes.
 */
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { publicKeyBase64 } from '../../support/sendgrid-webhook.js';
import type { KeyObject } from 'node:crypto';
import { startOwnRedis } from './redis-server.js';
import type { OwnRedis } from './redis-server.js';
import { startProcess, stopProcess } from './processes.js';
import type { Proc } from './processes.js';

export const adminToken = 'faults-admin-token-0123456789abcdef0123456789';
export const adminPassword = 'faults admin password';
const apiKey = 'SG.faults-key';

declare module 'vitest' {
  export interface ProvidedContext {
    faultsPostgresPort: number;
    faultsPostgresDataDir: string;
    faultsTemplateDatabase: string;
    faultsRedisPort: number;
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export type SinkCounts = {
  requests: number;
  byStatus: Record<string, number>;
  byRecipient: Record<string, Record<string, number> & { last?: number }>;
};

export type FaultStackOptions = {
  name: string;
  workerEnv?: Record<string, string>;
  webEnv?: Record<string, string>;
  webhookKey?: KeyObject;
};

export type FaultStack = Awaited<ReturnType<typeof createFaultStack>>;

export async function createFaultStack(options: FaultStackOptions) {
  const pgPort = inject('faultsPostgresPort');
  const database = `faults_${options.name.replace(/\W/g, '_')}_${randomBytes(3).toString('hex')}`;
  const adminUrl = `postgresql://postgres@127.0.0.1:${pgPort}/postgres`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database} TEMPLATE ${inject('faultsTemplateDatabase')}`);
  await admin.end();
  const databaseUrl = `postgresql://postgres@127.0.0.1:${pgPort}/${database}`;
  const db = new pg.Pool({ connectionString: databaseUrl, max: 4, connectionTimeoutMillis: 3_000 });
  // The suite stops this Postgres on purpose; idle clients then report errors that mean nothing here.
  db.on('error', () => undefined);

  const redis: OwnRedis = await startOwnRedis(inject('faultsRedisPort'));
  const queuePrefix = `faults-${randomBytes(3).toString('hex')}`;

  const sinkProc = startProcess(`${options.name}-sink`, 'test/faults/support/storm-sink.ts', { SENDGRID_API_KEY: apiKey });
  const sinkUrl = (await sinkProc.waitForLine(/storm-sink listening/)).split(' ').at(-1)!;

  const webPort = await freePort();
  const webUrl = `http://127.0.0.1:${webPort}`;
  const common = {
    NODE_ENV: 'development',
    LOG_LEVEL: 'info',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redis.url,
    QUEUE_PREFIX: queuePrefix,
    PUBLIC_URL: webUrl,
    DOUBLE_OPT_IN: 'true',
  };
  const webEnv: Record<string, string> = {
    ...common,
    PORT: String(webPort),
    ADMIN_TOKEN: adminToken,
    ADMIN_PASSWORD: adminPassword,
    SESSION_SECRET: 'faults-session-secret-0123456789abcdef0123',
    SENDGRID_API_KEY: apiKey,
    ...(options.webhookKey ? { SENDGRID_WEBHOOK_PUBLIC_KEY: publicKeyBase64(options.webhookKey) } : {}),
    ...options.webEnv,
  };
  const workerEnv: Record<string, string> = {
    ...common,
    SENDGRID_API_KEY: apiKey,
    SENDGRID_API_URL: sinkUrl,
    SENDGRID_TIMEOUT_MS: '10000',
    MAIL_FROM: 'Herald Faults <news@herald.test>',
    MAIL_POSTAL_ADDRESS: '1 Fault Street, Testville',
    WORKER_CONCURRENCY: '20',
    SEND_RATE_PER_SECOND: '100',
    SEND_RETRY_DELAY_MS: '1000',
    RECONCILE_EVERY_SECONDS: '5',
    SHUTDOWN_DEADLINE_SECONDS: '20',
    WORKER_HTTP_PORT: '0',
    ...options.workerEnv,
  };

  const web = startProcess(`${options.name}-web`, 'apps/web/src/main.ts', webEnv);
  await web.waitForLine(/web listening/);
  const workers: Proc[] = [];
  let workerCount = 0;

  const stack = {
    name: options.name,
    db,
    redis,
    webUrl,
    sinkUrl,
    databaseUrl,
    /** The BullMQ prefix the web and workers share, for a scenario that enqueues as the web does. */
    queuePrefix,
    web,
    workers,
    /** Starts a worker process and waits until it takes jobs. */
    async startWorker(): Promise<Proc> {
      const worker = startProcess(`${options.name}-worker-${++workerCount}`, 'apps/worker/src/main.ts', workerEnv);
      workers.push(worker);
      await worker.waitForLine(/worker started/);
      return worker;
    },
    /** `count` active subscribers reader-0@example.com …, each subscribed to the default list. */
    async seedAudience(count: number, domain = 'example.com'): Promise<void> {
      await db.query(
        `WITH added AS (
           INSERT INTO subscribers (email, name, status, consent_at, consent_source, confirmed_at)
           SELECT 'reader-' || n || '@${domain}', 'Reader ' || n, 'active', now(), 'faults', now()
           FROM generate_series(0, $1::int - 1) AS n
           RETURNING id)
         INSERT INTO subscriptions (subscriber_id, list_id, status, consent_at, consent_source, confirmed_at)
         SELECT added.id, lists.id, 'active', now(), 'faults', now() FROM added, lists WHERE lists.is_default`,
        [count],
      );
    },
    /** POST /send over HTTP; returns the campaign id. */
    async sendCampaign(subject = 'Fault issue'): Promise<{ campaignId: string; recipients: number }> {
      const res = await request('POST', '/send', { subject, body: '<p>Hello {{name}}</p><p><a href="{{unsubscribe_url}}">Leave</a></p>' });
      if (res.status !== 202) throw new Error(`POST /send answered ${res.status}: ${await res.text()}`);
      return (await res.json()) as { campaignId: string; recipients: number };
    },
    request,
    async deliveryCounts(campaignId: string): Promise<Record<string, number>> {
      const { rows } = await db.query<{ status: string; count: number }>(
        'SELECT status, count(*)::int AS count FROM deliveries WHERE campaign_id = $1 GROUP BY status',
        [campaignId],
      );
      return Object.fromEntries(rows.map((row) => [row.status, row.count]));
    },
    async campaignStatus(campaignId: string): Promise<string> {
      const { rows } = await db.query<{ status: string }>('SELECT status FROM campaigns WHERE id = $1', [campaignId]);
      return rows[0]?.status ?? 'missing';
    },
    /** Resolves once nothing is queued or sending and the campaign is `sent`; seconds waited. */
    async waitUntilDone(campaignId: string, timeoutMs: number): Promise<number> {
      const started = Date.now();
      for (;;) {
        const [counts, status] = await Promise.all([stack.deliveryCounts(campaignId), stack.campaignStatus(campaignId)]).catch(() => [{ queued: -1 }, 'unknown'] as const);
        if (!('queued' in counts) && !('sending' in counts) && status === 'sent') return (Date.now() - started) / 1000;
        if (Date.now() - started > timeoutMs) {
          throw new Error(`campaign not finished after ${timeoutMs / 1000} s: ${status} ${JSON.stringify(counts)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    },
    async sinkCounts(): Promise<SinkCounts> {
      return (await (await fetch(`${sinkUrl}/counts`)).json()) as SinkCounts;
    },
    async setStorm(storm: { serverErrorRate: number; rateLimitRate: number }): Promise<void> {
      await fetch(`${sinkUrl}/storm`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(storm) });
    },
    async rejectRecipients(emails: string[]): Promise<void> {
      const res = await fetch(`${sinkUrl}/api/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rejectRecipients: emails }) });
      if (!res.ok) throw new Error(`sink refused the fault settings: ${res.status}`);
    },
    /** What each intended recipient got: received (accepted at least once), missing, duplicates. */
    async tally(campaignId: string, exclude: string[] = []) {
      const { rows } = await db.query<{ email: string }>(
        `SELECT s.email FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE d.campaign_id = $1`,
        [campaignId],
      );
      const counts = await stack.sinkCounts();
      const skip = new Set(exclude);
      let received = 0;
      let missing = 0;
      let duplicates = 0;
      let recipients = 0;
      for (const { email } of rows) {
        if (skip.has(email)) continue;
        recipients += 1;
        const accepted = counts.byRecipient[email]?.['202'] ?? 0;
        if (accepted > 0) received += 1;
        else missing += 1;
        duplicates += Math.max(0, accepted - 1);
      }
      return { recipients, received, missing, duplicates, counts };
    },
    async close(): Promise<void> {
      redis.thaw();
      await Promise.all(workers.map((worker) => stopProcess(worker, 25_000)));
      await stopProcess(web);
      await stopProcess(sinkProc);
      await redis.stop();
      await db.end().catch(() => undefined);
      const cleanup = new pg.Client({ connectionString: adminUrl });
      await cleanup.connect().then(
        () => cleanup.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).finally(() => cleanup.end()),
        () => undefined,
      );
    },
  };

  async function request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    return fetch(`${webUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${adminToken}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  return stack;
}
