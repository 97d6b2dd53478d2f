import { createHash } from 'node:crypto';
import type { Db } from '@herald/shared';
import type { MalformedEvent, SendGridEvent } from './parse-event-batch.js';

/** Anything Postgres will cast to uuid; custom args are only trusted to be strings. */
const uuidShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Stores a webhook batch in one statement and returns how many events were new. A replayed event
 * (SendGrid retries whole batches) hits the dedupe key and is left alone, so storing is idempotent.
 *
 * References are resolved in SQL against rows that exist, since the integrity triggers refuse an
 * event pointing at a missing delivery or subscriber: the delivery named by `herald_delivery_id`,
 * its subscriber, else the subscriber named by `herald_subscriber_id` (confirmation mail), else the
 * subscriber with the event's address (asynchronous bounces carry no custom args).
 */
export async function storeEvents(db: Db, events: SendGridEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  const rows = events.map((event) => ({
    dedupe_key: eventDedupeKey(event),
    type: event.event,
    occurred_at: event.timestamp,
    delivery_ref: uuidOrNull(event.herald_delivery_id),
    subscriber_ref: uuidOrNull(event.herald_subscriber_id),
    email: event.email?.trim().toLowerCase() || null,
    payload: event,
  }));
  // One JSON parameter instead of 7 × N placeholders: a 5 MB batch stays one round trip.
  return db.$executeRaw`
    INSERT INTO email_events (dedupe_key, type, occurred_at, delivery_id, subscriber_id, payload)
    SELECT i.dedupe_key, i.type, to_timestamp(i.occurred_at) AT TIME ZONE 'UTC', d.id,
           -- COALESCE evaluates a subquery only when everything before it was NULL: a campaign
           -- event, nearly every event, costs one lookup (its delivery), not three.
           COALESCE(d.subscriber_id,
                    (SELECT s.id FROM subscribers s WHERE s.id = i.subscriber_ref),
                    (SELECT s.id FROM subscribers s WHERE s.email = i.email)),
           i.payload
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS i(
           dedupe_key text, type text, occurred_at float8, delivery_ref uuid, subscriber_ref uuid, email text, payload jsonb)
    LEFT JOIN deliveries d ON d.id = i.delivery_ref
    ON CONFLICT (dedupe_key) DO NOTHING`;
}

/**
 * `sg_event_id` when SendGrid sent one. Otherwise (and it is not always there) a hash of what
 * identifies an event: message, kind, time and recipient, and for a click the link and which of
 * several identical links (`url_offset`), so two clicks in the same second stay two. The link is
 * added only when present, so events without one keep the keys they always had. The prefix keeps
 * the two kinds of key apart.
 */
export function eventDedupeKey(event: SendGridEvent): string {
  if (event.sg_event_id) return event.sg_event_id;
  const identity: unknown[] = [event.sg_message_id ?? null, event.event, event.timestamp, event.email?.trim().toLowerCase() ?? null];
  if (event.url !== undefined || event.url_offset !== undefined) identity.push(event.url ?? null, event.url_offset ?? null);
  return `sha256:${createHash('sha256').update(JSON.stringify(identity)).digest('hex')}`;
}

/** Keeps events that failed the schema, as received, for an operator to look at. */
export async function storeMalformedEvents(db: Db, events: MalformedEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  const rows = events.map(({ raw, problems, email }) => ({ raw, problems, email }));
  return db.$executeRaw`
    INSERT INTO malformed_email_events (raw, problems, email)
    SELECT i.raw, i.problems, i.email
    FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS i(raw text, problems jsonb, email text)`;
}

function uuidOrNull(value: string | undefined): string | null {
  return value !== undefined && uuidShape.test(value) ? value : null;
}
