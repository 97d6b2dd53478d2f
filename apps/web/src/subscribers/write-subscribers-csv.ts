import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { stringify } from 'csv-stringify';
import { Prisma, keysetPages } from '@herald/shared';
import type { Attributes, Db } from '@herald/shared';
import { subscriberFilterConditions } from './list-subscribers.js';
import type { SubscriberFilter } from './list-subscribers.js';
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
  list_status: string | null;
  attributes: Attributes;
};

const pageSize = 5_000;

/**
 * Writes every subscriber the filter selects (all of them without one) to `out` as CSV, a page at
 * a time in id order, at the pace the client reads, so a million rows never sit in memory. With a
 * list, a `list_status` column holds each person's subscription status on it. Every attribute key
 * any selected person has becomes a column after those (sorted; a key named like a fixed column
 * gets an `attribute_` prefix), so the file imports back as it was. The keys and the first page
 * are read before anything is written, so a database outage can still be answered with an error
 * status. Resolves when the file is complete; rejects if the client went away or a later page failed.
 */
export async function writeSubscribersCsv(db: Db, out: Writable, filter: SubscriberFilter = {}): Promise<void> {
  const conditions = subscriberFilterConditions(filter);
  const listStatus = filter.listId
    ? Prisma.sql`(SELECT sub.status::text FROM subscriptions sub WHERE sub.subscriber_id = s.id AND sub.list_id = ${filter.listId}::uuid)`
    : Prisma.sql`NULL::text`;
  const readPage = (after: string, limit: number) => db.$queryRaw<CsvRow[]>`
    SELECT s.id, s.email, s.name, s.status::text AS status, s.consent_at, s.consent_source, s.confirmed_at, s.unsubscribed_at,
           s.created_at, ${listStatus} AS list_status, s.attributes
    FROM subscribers s
    WHERE s.id > ${after}::uuid ${conditions.length > 0 ? Prisma.sql`AND ${Prisma.join(conditions, ' AND ')}` : Prisma.empty}
    ORDER BY s.id LIMIT ${limit}`;

  const keyRows = await db.$queryRaw<{ key: string }[]>`
    SELECT DISTINCT k.key FROM subscribers s, jsonb_object_keys(s.attributes) AS k(key)
    ${conditions.length > 0 ? Prisma.sql`WHERE ${Prisma.join(conditions, ' AND ')}` : Prisma.empty}
    ORDER BY k.key`;
  const keys = keyRows.map((row) => row.key);
  const fixedColumns = filter.listId ? [...subscriberCsvColumns, 'list_status'] : subscriberCsvColumns;
  const columns = [...fixedColumns, ...keys.map((key) => (fixedColumns.includes(key) ? `attribute_${key}` : key))];

  const pages = keysetPages(readPage, { pageSize });
  const first = await pages.next();
  async function* records() {
    if (first.done) return;
    for (let page: CsvRow[] | undefined = first.value; page; page = (await pages.next()).value ?? undefined) {
      for (const row of page) {
        const record: unknown[] = [row.email, row.name === null ? null : guardFormula(row.name), row.status, row.consent_at, row.consent_source, row.confirmed_at, row.unsubscribed_at, row.created_at];
        if (filter.listId) record.push(row.list_status);
        for (const key of keys) {
          const value = row.attributes[key];
          record.push(value === undefined ? null : typeof value === 'string' ? guardFormula(value) : String(value));
        }
        yield record;
      }
    }
  }

  await pipeline(
    Readable.from(records()),
    stringify({ header: true, columns, cast: { date: (date) => date.toISOString() } }),
    out,
  );
}
