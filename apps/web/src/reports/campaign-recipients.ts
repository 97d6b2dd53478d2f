import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { stringify } from 'csv-stringify';
import { Prisma } from '@herald/shared';
import type { Campaign, Db } from '@herald/shared';
import { encodeTimeIdCursor } from '../http/time-id-cursor.js';
import { guardFormula } from '../subscribers/spreadsheet-text.js';
import { isReportKind } from './report-kinds.js';
import type { RecipientEvent } from './report-kinds.js';
import { writtenLinks } from './written-links.js';

export type ReportRecipient = {
  /** Null once the person was erased: the delivery stays, anonymous, so the counts stay right. */
  email: string | null;
  name: string | null;
  subscriberId: string | null;
  deliveryId: string;
  /** When it happened: the first event of the kind, or when the delivery was sent or ended. */
  at: Date;
};

export type RecipientQuery = {
  event: RecipientEvent;
  /** With `clicked`: only those who clicked this link (as written in the body, or as clicked). */
  url?: string | undefined;
  /** With `clicked`: only those who clicked the footer's unsubscribe or preference link. */
  link?: 'unsubscribe' | 'preferences' | undefined;
  after?: { at: Date; id: string } | undefined;
  limit: number;
};

type Row = { delivery_id: string; at: Date; email: string | null; name: string | null; subscriber_id: string | null };

/**
 * The url digests (as the aggregates key links) of the clicks a link filter means: an exact URL,
 * every per-recipient URL of a body link written with a placeholder, or every recipient's footer
 * link. Empty when nobody clicked it.
 */
async function clickedUrlHashes(db: Db, campaign: Campaign, publicUrl: string, query: RecipientQuery): Promise<string[]> {
  if (query.link) {
    const prefix = `${publicUrl}/${query.link}/`;
    const rows = await db.$queryRaw<{ url_hash: string }[]>`
      SELECT url_hash FROM campaign_link_clicks WHERE campaign_id = ${campaign.id}::uuid AND starts_with(url, ${prefix})`;
    return rows.map((row) => row.url_hash);
  }
  const written = writtenLinks(campaign.html, campaign.format).find((link) => link.url === query.url);
  if (written?.personal) {
    const rows = await db.$queryRaw<{ url_hash: string; url: string }[]>`
      SELECT url_hash, url FROM campaign_link_clicks WHERE campaign_id = ${campaign.id}::uuid`;
    return rows.filter((row) => written.matches(row.url)).map((row) => row.url_hash);
  }
  // One URL, one digest (md5, as the aggregates key links).
  const rows = await db.$queryRaw<{ url_hash: string }[]>`
    SELECT url_hash FROM campaign_link_clicks WHERE campaign_id = ${campaign.id}::uuid AND url_hash = md5(${query.url ?? ''})`;
  return rows.map((row) => row.url_hash);
}

const person = Prisma.sql`s.email, s.name, s.id AS subscriber_id`;

/**
 * One page of the people behind a report figure, keyset-paged so every page costs the same: by
 * (first event, delivery) from the aggregates' per-recipient rows, whose index leads with the
 * campaign and kind; by delivery id for the deliveries' own states.
 */
export async function pageRecipients(
  db: Db,
  campaign: Campaign,
  publicUrl: string,
  query: RecipientQuery,
): Promise<{ recipients: ReportRecipient[]; nextCursor: string | null }> {
  const after = query.after ?? { at: new Date(0), id: '00000000-0000-0000-0000-000000000000' };
  const limit = query.limit + 1;
  let rows: Row[];
  if (!isReportKind(query.event)) {
    rows = await db.$queryRaw<Row[]>`
      SELECT d.id AS delivery_id, coalesce(d.sent_at, d.updated_at) AS at, ${person}
      FROM deliveries d LEFT JOIN subscribers s ON s.id = d.subscriber_id
      WHERE d.campaign_id = ${campaign.id}::uuid AND d.status = ${query.event}::delivery_status AND d.id > ${after.id}::uuid
      ORDER BY d.id LIMIT ${limit}`;
  } else if (query.event === 'clicked' && (query.url !== undefined || query.link !== undefined)) {
    const hashes = await clickedUrlHashes(db, campaign, publicUrl, query);
    const firsts =
      hashes.length === 1
        ? Prisma.sql`SELECT delivery_id, first_at FROM delivery_link_clicks
            WHERE campaign_id = ${campaign.id}::uuid AND url_hash = ${hashes[0]}
              AND (first_at, delivery_id) > (${after.at}::timestamp, ${after.id}::uuid)
            ORDER BY first_at, delivery_id LIMIT ${limit}`
        : Prisma.sql`SELECT delivery_id, min(first_at) AS first_at FROM delivery_link_clicks
            WHERE campaign_id = ${campaign.id}::uuid AND url_hash = ANY(${hashes}::text[])
            GROUP BY delivery_id HAVING (min(first_at), delivery_id) > (${after.at}::timestamp, ${after.id}::uuid)
            ORDER BY 2, 1 LIMIT ${limit}`;
    rows = await db.$queryRaw<Row[]>`
      SELECT f.delivery_id, f.first_at AS at, ${person}
      FROM (${firsts}) f JOIN deliveries d ON d.id = f.delivery_id LEFT JOIN subscribers s ON s.id = d.subscriber_id
      ORDER BY f.first_at, f.delivery_id`;
  } else {
    rows = await db.$queryRaw<Row[]>`
      SELECT f.delivery_id, f.first_at AS at, ${person}
      FROM delivery_event_firsts f JOIN deliveries d ON d.id = f.delivery_id LEFT JOIN subscribers s ON s.id = d.subscriber_id
      WHERE f.campaign_id = ${campaign.id}::uuid AND f.kind = ${query.event}
        AND (f.first_at, f.delivery_id) > (${after.at}::timestamp, ${after.id}::uuid)
      ORDER BY f.first_at, f.delivery_id LIMIT ${limit}`;
  }
  const recipients = rows.slice(0, query.limit).map((row) => ({
    email: row.email,
    name: row.name,
    subscriberId: row.subscriber_id,
    deliveryId: row.delivery_id,
    at: row.at,
  }));
  const last = recipients.at(-1);
  return { recipients, nextCursor: rows.length > query.limit && last ? encodeTimeIdCursor(last.at, last.deliveryId) : null };
}

/**
 * Every person behind a figure as CSV, a page at a time at the pace the client reads. The first
 * page is read before anything is written, so a failure can still be answered with an error status.
 */
export async function writeRecipientsCsv(db: Db, campaign: Campaign, publicUrl: string, query: Omit<RecipientQuery, 'after' | 'limit'>, out: Writable): Promise<void> {
  const pageSize = 5_000;
  let page = await pageRecipients(db, campaign, publicUrl, { ...query, limit: pageSize });
  async function* records() {
    for (;;) {
      for (const row of page.recipients) {
        yield [row.email === null ? '(erased)' : guardFormula(row.email), row.name === null ? null : guardFormula(row.name), row.at, row.subscriberId, row.deliveryId];
      }
      if (!page.nextCursor) return;
      const last = page.recipients.at(-1)!;
      page = await pageRecipients(db, campaign, publicUrl, { ...query, after: { at: last.at, id: last.deliveryId }, limit: pageSize });
    }
  }
  await pipeline(
    Readable.from(records()),
    stringify({ header: true, columns: ['email', 'name', 'at', 'subscriber_id', 'delivery_id'], cast: { date: (date) => date.toISOString() } }),
    out,
  );
}
