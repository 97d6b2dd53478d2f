/**
 * CSV import rate: a generated file (with duplicate and invalid lines) streamed over HTTP to the real
 * `POST /subscribers/import` against a scratch database, emptied before each run. Without consent the
 * rows are pending and the import asks a worker (one reconcile job) for their confirmation emails.
 * Alone: `tsx --conditions=herald-source scripts/bench/csv-import.ts [rows] [runs]`.
 */
import { fileURLToPath } from 'node:url';
import { benchAdminToken, startBenchWeb } from './bench-web.js';

export type ImportRates = { rowsPerSecondMedian: number; rowsPerSecondSlowest: number };
export type ImportResult = ImportRates & {
  rows: number;
  runs: number;
  peakRssMb: number;
  /** The same file with three attribute columns (text, text, number), in the same run (absent in results from before attributes). */
  withAttributes?: ImportRates;
};

/**
 * The file: header, then `rows` data lines, in 64 KiB chunks, generated as it is sent so it is never
 * in memory whole. One line in 100 repeats an earlier address, one in 200 is not an address, and one
 * in 500 is followed by a blank line; names are quoted and contain commas. With attributes, every
 * line also has a plan, a country and a number of seats, as an export from a CRM would.
 */
async function* csvFile(rows: number, withAttributes: boolean): AsyncGenerator<Uint8Array> {
  const extra = withAttributes ? (i: number) => `,${i % 5 === 0 ? 'pro' : 'free'},${countries[i % countries.length]},${i % 50}` : () => '';
  let chunk = withAttributes ? 'email,name,plan,country,seats\r\n' : 'email,name\r\n';
  for (let i = 0; i < rows; i++) {
    if (i % 200 === 199) chunk += `not-an-address-${i},Broken${extra(i)}\r\n`;
    else if (i % 100 === 99) chunk += `Reader.${i - 50}@Example.com,"Reader ${i - 50}, again"${extra(i)}\r\n`;
    else chunk += `Reader.${i}@Example.com,"Reader ${i}, Esq."${extra(i)}\r\n`;
    if (i % 500 === 499) chunk += '\r\n';
    if (chunk.length >= 64 * 1024) {
      yield Buffer.from(chunk);
      chunk = '';
    }
  }
  yield Buffer.from(chunk);
}

const countries = ['FR', 'DE', 'US', 'GB', 'ES', 'IT', 'NL', 'SE'];

/** Runs with and without attribute columns alternate, so a change in the machine's load falls on both. */
export async function measureImport(rows: number, runs: number): Promise<ImportResult> {
  const web = await startBenchWeb(`herald_bench_import_${process.pid}`);
  try {
    const plain: number[] = [];
    const attributed: number[] = [];
    for (let run = 0; run < runs; run++) {
      plain.push(await importOnce(web, rows, false));
      attributed.push(await importOnce(web, rows, true));
    }
    return {
      rows,
      runs,
      ...rates(plain),
      withAttributes: rates(attributed),
      // The bench process holds the server and the client alike; the file is generated as it is sent.
      peakRssMb: process.resourceUsage().maxRSS / 1024,
    };
  } finally {
    await web.close();
  }
}

function rates(perRun: number[]): ImportRates {
  const sorted = [...perRun].sort((a, b) => a - b);
  return { rowsPerSecondMedian: sorted[Math.floor(sorted.length / 2)]!, rowsPerSecondSlowest: sorted[0]! };
}

/** One import into an emptied database; its rate in rows per second. */
async function importOnce(web: Awaited<ReturnType<typeof startBenchWeb>>, rows: number, withAttributes: boolean): Promise<number> {
  await web.db.$executeRaw`TRUNCATE email_events, deliveries, campaign_lists, campaigns, welcome_emails, subscriptions, subscribers CASCADE`;
  await web.queues.maintenance.obliterate({ force: true });
  const started = performance.now();
  const res = await fetch(`${web.url}/subscribers/import`, {
    method: 'POST',
    headers: { authorization: `Bearer ${benchAdminToken}`, 'content-type': 'text/csv' },
    body: csvFile(rows, withAttributes),
    duplex: 'half',
  } as RequestInit);
  const report = (await res.json()) as { imported: number; updated: number; skipped: number; invalidCount: number };
  const seconds = (performance.now() - started) / 1000;
  const total = report.imported + report.updated + report.skipped + report.invalidCount;
  if (res.status !== 200 || total !== rows) throw new Error(`the import answered ${res.status}: ${JSON.stringify(report)}`);
  return rows / seconds;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await measureImport(Number(process.argv[2] ?? 200_000), Number(process.argv[3] ?? 3));
  console.log(JSON.stringify(result, null, 2));
  process.exit(0);
}
