/**
 * Measures POST /subscribers/import: a generated CSV (with duplicate and invalid lines) streamed over
 * HTTP to the real web app against a scratch database, emptied before each run. Prints rows per
 * second and the process's peak RSS (server and client share it; the file is generated as it is
 * sent, so it is never in memory whole).
 * Usage: npm run measure:import [-- rows runs consent]
 * where consent is `confirmed` (active, no emails; the default) or `none` (pending: the import
 * then asks a worker, with one reconcile job, to enqueue their confirmation emails).
 */
import { benchAdminToken, startBenchWeb } from './bench-web.js';

const rows = Number(process.argv[2] ?? 200_000);
const runs = Number(process.argv[3] ?? 5);
const consent = process.argv[4] ?? 'confirmed';

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

const web = await startBenchWeb('herald_bench_import', { MAIL_POSTAL_ADDRESS: '1 Bench Street' });
const { db, queues } = web;
const token = benchAdminToken;
const url = `${web.url}/subscribers/import${consent === 'confirmed' ? '?consent=confirmed' : ''}`;

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

await web.close();
