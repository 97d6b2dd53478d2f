/**
 * Measures how long POST /send takes to answer for a large audience: the campaign, one delivery per
 * subscriber and the full streamed list of task ids. Runs the real web app over HTTP against a
 * scratch database. Usage: npm run measure:send [-- recipients runs]
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { closeQueues, createDb, createLogger, createProducerConnection, createQueues } from '@herald/shared';
import { createApp } from '../apps/web/src/app.js';
import { loadConfig } from '../apps/web/src/config.js';
import { migrateDeploy } from '../tools/prisma-schema-engine/deploy.js';

const recipients = Number(process.argv[2] ?? 100_000);
const runs = Number(process.argv[3] ?? 5);
const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const database = 'herald_bench_send';
const databaseUrl = Object.assign(new URL(adminUrl), { pathname: `/${database}` }).toString();
const token = 'bench-admin-token-0123456789abcdef0123456789';

async function admin(sql: string) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  await client.query(sql).finally(() => client.end());
}

await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
await admin(`CREATE DATABASE ${database}`);
await migrateDeploy(databaseUrl);

const config = loadConfig({
  NODE_ENV: 'production',
  LOG_LEVEL: 'silent',
  DATABASE_URL: databaseUrl,
  QUEUE_PREFIX: `bench-${Date.now()}`,
  ADMIN_TOKEN: token,
  ADMIN_PASSWORD: 'bench-password-123',
  SESSION_SECRET: 'bench-session-secret-0123456789abcdef',
});
const db = createDb(databaseUrl);
const redis = createProducerConnection(config.redisUrl);
await redis.connect();
const queues = createQueues(redis, config.queuePrefix);
const server = createApp({ config, db, redis, queues, logger: createLogger({ name: 'bench', level: 'silent' }) }).listen(0, '127.0.0.1');
await once(server, 'listening');
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

await db.$executeRaw`
  INSERT INTO subscribers (email, name, status) SELECT 'reader-' || n || '@example.com', 'Reader ' || n, 'active'
  FROM generate_series(1, ${recipients}::int) AS n`;
await db.$executeRaw`VACUUM ANALYZE subscribers`.catch(() => undefined);

const timings: number[] = [];
for (let run = 0; run < runs; run++) {
  const started = performance.now();
  const res = await fetch(`${url}/send`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ subject: 'Bench', body: '<p>Hello {{name}}</p>' }),
  });
  const body = (await res.json()) as { tasks: string[] };
  const elapsed = performance.now() - started;
  if (res.status !== 202 || body.tasks.length !== recipients) throw new Error(`unexpected answer ${res.status} with ${body.tasks.length} tasks`);
  timings.push(elapsed);
  console.log(`run ${run + 1}: ${recipients} recipients answered in ${elapsed.toFixed(0)} ms`);
}
const sorted = [...timings].sort((a, b) => a - b);
console.log(`median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} ms, worst ${sorted.at(-1)!.toFixed(0)} ms over ${runs} runs`);

server.close();
await queues.campaigns.obliterate({ force: true });
await closeQueues(queues);
redis.disconnect();
await db.$disconnect();
await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
