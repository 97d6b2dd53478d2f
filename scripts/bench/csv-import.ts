/**
 * CSV import rate: a generated file (with duplicate and invalid lines) streamed over HTTP to the real
 * `POST /subscribers/import` against a scratch database, emptied before each run. Without consent the
 * rows are pending and the import asks a worker (one reconcile job) for their confirmation emails.
 */
import { benchAdminToken, startBenchWeb } from './bench-web.js';

export type ImportResult = { rows: number; runs: number; rowsPerSecondMedian: number; rowsPerSecondSlowest: number; peakRssMb: number };

/**
 * The file: header, then `rows` data lines, in 64 KiB chunks, generated as it is sent so it is never
 * in memory whole. One line in 100 repeats an earlier address, one in 200 is not an address, and one
 * in 500 is followed by a blank line; names are quoted and contain commas.
 */
async function* csvFile(rows: number): AsyncGenerator<Uint8Array> {
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

export async function measureImport(rows: number, runs: number): Promise<ImportResult> {
  const web = await startBenchWeb(`herald_bench_import_${process.pid}`);
  try {
    const rates: number[] = [];
    for (let run = 0; run < runs; run++) {
      await web.db.$executeRaw`TRUNCATE email_events, deliveries, campaign_lists, campaigns, welcome_emails, subscriptions, subscribers`;
      await web.queues.maintenance.obliterate({ force: true });
      const started = performance.now();
      const res = await fetch(`${web.url}/subscribers/import`, {
        method: 'POST',
        headers: { authorization: `Bearer ${benchAdminToken}`, 'content-type': 'text/csv' },
        body: csvFile(rows),
        duplex: 'half',
      } as RequestInit);
      const report = (await res.json()) as { imported: number; updated: number; skipped: number; invalidCount: number };
      const seconds = (performance.now() - started) / 1000;
      const total = report.imported + report.updated + report.skipped + report.invalidCount;
      if (res.status !== 200 || total !== rows) throw new Error(`the import answered ${res.status}: ${JSON.stringify(report)}`);
      rates.push(rows / seconds);
    }
    const sorted = [...rates].sort((a, b) => a - b);
    return {
      rows,
      runs,
      rowsPerSecondMedian: sorted[Math.floor(sorted.length / 2)]!,
      rowsPerSecondSlowest: sorted[0]!,
      // The bench process holds the server and the client alike; the file is generated as it is sent.
      peakRssMb: process.resourceUsage().maxRSS / 1024,
    };
  } finally {
    await web.close();
  }
}
