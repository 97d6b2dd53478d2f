/**
 * Measures POST /subscribers/import: a generated CSV (with duplicate and invalid lines) streamed over
 * HTTP to the real web app against a scratch database, emptied before each run. Prints rows per
 * second and the process's peak RSS (server and client share it; the file is generated as it is
 * sent, so it is never in memory whole).
 * Usage: npm run measure:import [-- rows runs consent]
 * where consent is `confirmed` (active, no emails; the default) or `none` (pending: the import
 * then asks a worker, with one reconcile job, to enqueue their confirmation emails).
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { closeQueues, createDb, createLogger, createProducerConnection, createQueues } from '@herald/shared';
import { createApp } from '../apps/web/src/app.js';
import { loadConfig } from '../apps/web/src/config.js';
import { migrateDeploy } from '../tools/prisma-schema-engine/deploy.js';

const rows = Number(process.argv[2] ?? 200_000);
const runs = Number(process.argv[3] ?? 5);
const consent = process.argv[4] ?? 'confirmed';
const adminUrl = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const database = 'herald_bench_import';
const databaseUrl = Object.assign(new URL(adminUrl), { pathname: `/${database}` }).toString();
const token = 'bench-admin-token-0123456789abcdef0123456789';

async function admin(sql: string) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  await client.query(sql).finally(() => client.end());
}

/**
 * The file: header, then `rows` data lines, in 64 KiB chunks. One line in 100 repeats an earlier
 * address, one in 200 is not an address, and one in 500 is followed by a blank line; names are
 * quoted and contain commas.
 */
async function* csvFile(): AsyncGenerator<Uint8Array> {
  let chunk = 'email,name\r\n';
  for (let i = 0; i < rows; i++) {
    if (i % 200 === 199) chunk += `not-an-address-${i},Broken\r\n`;
    else if (i % 100 === 99) chunk += `Reader.${i - 50}@Example.com,"Reader ${i - 50}, again"\r\n`;
    else chunk += `Reader.${i}@Example.com,"Reader ${i}, Esq."\r\n`;
    if (i % 500 === 499) chunk += '\r\n';
    if (chunk.length >= 64 * 1024) {
      yield Buffer.from(chunk);
      chunk = '';
    }
  }
  yield Buffer.from(chunk);
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
  MAIL_POSTAL_ADDRESS: '1 Bench Street',
});
const db = createDb(databaseUrl);
const redis = createProducerConnection(config.redisUrl);
await redis.connect();
const queues = createQueues(redis, config.queuePrefix);
const server = createApp({ config, db, redis, queues, logger: createLogger({ name: 'bench', level: 'silent' }) }).listen(0, '127.0.0.1');
await once(server, 'listening');
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/subscribers/import${consent === 'confirmed' ? '?consent=confirmed' : ''}`;

const rates: number[] = [];
console.log(`${rows} rows per run, consent=${consent}; RSS before the first import ${Math.round(process.memoryUsage().rss / 1024 / 1024)} MB`);
for (let run = 0; run < runs; run++) {
  await db.$executeRaw`TRUNCATE email_events, deliveries, campaigns, subscribers`;
  await queues.maintenance.obliterate({ force: true });
  const started = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
    body: csvFile(),
    duplex: 'half',
  } as RequestInit);
  const report = (await res.json()) as { imported: number; updated: number; skipped: number; invalidCount: number };
  const seconds = (performance.now() - started) / 1000;
  const total = report.imported + report.updated + report.skipped + report.invalidCount;
  if (res.status !== 200 || total !== rows) throw new Error(`unexpected answer ${res.status}: ${JSON.stringify(report)}`);
  rates.push(rows / seconds);
  console.log(
    `run ${run + 1}: ${rows} rows in ${seconds.toFixed(2)} s = ${Math.round(rows / seconds)} rows/s ` +
      `(imported ${report.imported}, skipped ${report.skipped}, invalid ${report.invalidCount}, ` +
      `reconcile jobs requested ${await queues.maintenance.count()}), peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`,
  );
}
const sorted = [...rates].sort((a, b) => a - b);
console.log(
  `median ${Math.round(sorted[Math.floor(sorted.length / 2)]!)} rows/s, slowest ${Math.round(sorted[0]!)} rows/s over ${runs} runs ` +
    `(consent=${consent}); peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`,
);

server.close();
for (const queue of Object.values(queues)) await queue.obliterate({ force: true });
await closeQueues(queues);
redis.disconnect();
await db.$disconnect();
await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
