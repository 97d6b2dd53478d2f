import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { stringify } from 'csv-stringify';
import { Prisma, keysetPages } from '@herald/shared';
import type { Db, SubscriberStatus } from '@herald/shared';
import { guardFormula } from './spreadsheet-text.js';

export const subscriberCsvColumns = ['email', 'name', 'status', 'consent_at', 'consent_source', 'confirmed_at', 'unsubscribed_at', 'created_at'];

type CsvRow = {
  id: string;
  email: string;
  name: string | null;
  status: string;
  consent_at: Date | null;
  consent_source: string | null;
  confirmed_at: Date | null;
  unsubscribed_at: Date | null;
  created_at: Date;
};

const pageSize = 5_000;

/**
 * Writes every subscriber (or those with `status`) to `out` as CSV, a page at a time in id order,
 * at the pace the client reads, so a million rows never sit in memory. The first page is read
 * before anything is written, so a database outage can still be answered with an error status.
 * Resolves when the file is complete; rejects if the client went away or a later page failed.
 */
export async function writeSubscribersCsv(db: Db, out: Writable, options: { status?: SubscriberStatus } = {}): Promise<void> {
  const readPage = (after: string, limit: number) => db.$queryRaw<CsvRow[]>`
    SELECT id, email, name, status::text AS status, consent_at, consent_source, confirmed_at, unsubscribed_at, created_at
    FROM subscribers
    WHERE id > ${after}::uuid ${options.status ? Prisma.sql`AND status = ${options.status}::subscriber_status` : Prisma.empty}
    ORDER BY id LIMIT ${limit}`;

  const pages = keysetPages(readPage, { pageSize });
  const first = await pages.next();
  async function* records() {
    if (first.done) return;
    for (let page: CsvRow[] | undefined = first.value; page; page = (await pages.next()).value ?? undefined) {
      for (const row of page) {
        yield [row.email, row.name === null ? null : guardFormula(row.name), row.status, row.consent_at, row.consent_source, row.confirmed_at, row.unsubscribed_at, row.created_at];
      }
    }
  }

  await pipeline(
    Readable.from(records()),
    stringify({ header: true, columns: subscriberCsvColumns, cast: { date: (date) => date.toISOString() } }),
    out,
  );
}
