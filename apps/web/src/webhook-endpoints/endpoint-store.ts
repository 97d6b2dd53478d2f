import { randomBytes } from 'node:crypto';
import type { Db, SqlClient } from '@herald/shared';
import { webhookTestEventType } from '@herald/shared';
import type { CreateEndpointInput, UpdateEndpointInput } from './endpoint-schema.js';

/** An endpoint as the API and the admin show it: never its secret, except once when it is made. */
export type EndpointView = {
  id: string;
  url: string;
  description: string | null;
  events: string[];
  enabled: boolean;
  disabledReason: string | null;
  disabledAt: Date | null;
  failingSince: Date | null;
  createdAt: Date;
  updatedAt: Date;
};

/** The row as Prisma selects it: the view, with the column's own name for the events. */
type EndpointRow = Omit<EndpointView, 'events'> & { eventTypes: string[] };

function viewOf(row: EndpointRow): EndpointView {
  const { eventTypes, ...rest } = row;
  return { ...rest, events: eventTypes };
}

const shown = {
  id: true,
  url: true,
  description: true,
  eventTypes: true,
  enabled: true,
  disabledReason: true,
  disabledAt: true,
  failingSince: true,
  createdAt: true,
  updatedAt: true,
} as const;

/** `whsec_` + base64 of 24 random bytes, as Standard Webhooks libraries expect a secret. */
function newSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

export async function listEndpoints(db: Db): Promise<EndpointView[]> {
  const rows = await db.webhookEndpoint.findMany({ select: shown, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  return rows.map(viewOf);
}

export async function findEndpoint(db: Db, id: string): Promise<EndpointView | null> {
  const row = await db.webhookEndpoint.findUnique({ where: { id }, select: shown });
  return row ? viewOf(row) : null;
}

/** Creates an endpoint; the answer is the only time its secret is shown. */
export async function createEndpoint(db: Db, input: CreateEndpointInput): Promise<EndpointView & { secret: string }> {
  const enabled = input.enabled ?? true;
  const row = await db.webhookEndpoint.create({
    data: {
      url: input.url,
      description: input.description || null,
      eventTypes: input.events,
      secret: newSecret(),
      enabled,
      ...(enabled ? {} : { disabledAt: new Date(), disabledReason: 'Created disabled.' }),
    },
    select: { ...shown, secret: true },
  });
  const { secret, ...rest } = row;
  return { ...viewOf(rest), secret };
}

/**
 * Changes an endpoint. Disabling records when and why; enabling clears that and the run of
 * failures, and brings its pending deliveries forward to now, so a receiver that is back gets
 * what it missed without waiting out the backoff.
 */
export async function updateEndpoint(db: Db, id: string, input: UpdateEndpointInput): Promise<{ endpoint: EndpointView; before: EndpointView } | null> {
  return db.$transaction(async (tx) => {
    const [locked] = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM webhook_endpoints WHERE id = ${id}::uuid FOR UPDATE`;
    const current = locked ? await tx.webhookEndpoint.findUnique({ where: { id }, select: shown }) : null;
    if (!current) return null;
    const turningOn = input.enabled === true && !current.enabled;
    const turningOff = input.enabled === false && current.enabled;
    const row = await tx.webhookEndpoint.update({
      where: { id },
      data: {
        ...(input.url !== undefined ? { url: input.url } : {}),
        ...(input.events !== undefined ? { eventTypes: input.events } : {}),
        ...(input.description !== undefined ? { description: input.description || null } : {}),
        ...(turningOn ? { enabled: true, disabledAt: null, disabledReason: null, failingSince: null } : {}),
        ...(turningOff ? { enabled: false, disabledAt: new Date(), disabledReason: 'Disabled by an admin.' } : {}),
      },
      select: shown,
    });
    if (turningOn) {
      await tx.$executeRaw`
        UPDATE webhook_deliveries SET next_attempt_at = now(), dispatched_at = NULL
        WHERE endpoint_id = ${id}::uuid AND status = 'pending' AND next_attempt_at > now()`;
    }
    return { endpoint: viewOf(row), before: viewOf(current) };
  });
}

/** Deletes an endpoint with its deliveries and their attempts; answers what was deleted, or null. */
export async function deleteEndpoint(db: SqlClient, id: string): Promise<{ id: string; url: string } | null> {
  const [deleted] = await db.$queryRaw<{ id: string; url: string }[]>`DELETE FROM webhook_endpoints WHERE id = ${id}::uuid RETURNING id, url`;
  return deleted ?? null;
}

/**
 * A `webhook.test` event for this endpoint alone, delivered like any other (signed, retried), so
 * a receiver can be checked before real events reach it. Refused for a disabled endpoint.
 */
export async function sendTestEvent(
  db: Db,
  endpointId: string,
): Promise<{ eventId: string; deliveryId: string; endpoint: { id: string; url: string } } | 'not_found' | 'disabled'> {
  return db.$transaction(async (tx) => {
    const endpoint = await tx.webhookEndpoint.findUnique({ where: { id: endpointId }, select: { id: true, url: true, enabled: true } });
    if (!endpoint) return 'not_found';
    if (!endpoint.enabled) return 'disabled';
    const [event] = await tx.$queryRaw<{ id: string }[]>`
      INSERT INTO webhook_events (type, data)
      VALUES (${webhookTestEventType}, jsonb_build_object('endpoint', jsonb_build_object('id', ${endpointId}::uuid), 'message', 'A test event from Herald.'))
      RETURNING id`;
    const [delivery] = await tx.$queryRaw<{ id: string }[]>`
      INSERT INTO webhook_deliveries (event_id, endpoint_id) VALUES (${event!.id}::uuid, ${endpointId}::uuid) RETURNING id`;
    return { eventId: event!.id, deliveryId: delivery!.id, endpoint: { id: endpoint.id, url: endpoint.url } };
  });
}

/** The latest attempt at a delivery, as shown beside it. */
export type AttemptView = { attemptedAt: Date; durationMs: number; statusCode: number | null; error: string | null; responseExcerpt: string | null };

export type DeliveryView = {
  id: string;
  eventId: string;
  type: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  nextAttemptAt: Date | null;
  lastAttemptAt: Date | null;
  deliveredAt: Date | null;
  createdAt: Date;
  lastAttempt: AttemptView | null;
};

type DeliveryRow = {
  id: string;
  event_id: string;
  type: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  next_attempt_at: Date;
  last_attempt_at: Date | null;
  delivered_at: Date | null;
  created_at: Date;
  attempted_at: Date | null;
  duration_ms: number | null;
  status_code: number | null;
  error: string | null;
  response_excerpt: string | null;
};

/** An endpoint's deliveries, newest first, each with its latest attempt; keyset-paged by id. */
export async function listDeliveries(
  db: SqlClient,
  endpointId: string,
  query: { limit: number; cursor?: string | undefined; status?: string | undefined },
): Promise<{ deliveries: DeliveryView[]; nextCursor: string | null }> {
  const rows = await db.$queryRaw<DeliveryRow[]>`
    SELECT d.id, d.event_id, e.type, d.status, d.attempts, d.next_attempt_at, d.last_attempt_at, d.delivered_at, d.created_at,
           a.attempted_at, a.duration_ms, a.status_code, a.error, a.response_excerpt
    FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
    LEFT JOIN LATERAL (
      SELECT * FROM webhook_attempts a WHERE a.delivery_id = d.id ORDER BY a.id DESC LIMIT 1) a ON true
    WHERE d.endpoint_id = ${endpointId}::uuid
      AND (${query.cursor ?? null}::uuid IS NULL OR d.id < ${query.cursor ?? null}::uuid)
      AND (${query.status ?? null}::text IS NULL OR d.status = ${query.status ?? null}::text)
    ORDER BY d.id DESC LIMIT ${query.limit + 1}`;
  const page = rows.slice(0, query.limit);
  return {
    deliveries: page.map((row) => ({
      id: row.id,
      eventId: row.event_id,
      type: row.type,
      status: row.status,
      attempts: row.attempts,
      nextAttemptAt: row.status === 'pending' ? row.next_attempt_at : null,
      lastAttemptAt: row.last_attempt_at,
      deliveredAt: row.delivered_at,
      createdAt: row.created_at,
      lastAttempt:
        row.attempted_at === null
          ? null
          : { attemptedAt: row.attempted_at, durationMs: row.duration_ms!, statusCode: row.status_code, error: row.error, responseExcerpt: row.response_excerpt },
    })),
    nextCursor: rows.length > query.limit ? page[page.length - 1]!.id : null,
  };
}

/**
 * "Send again": a delivered or failed delivery goes back to pending, due now, and is attempted
 * once more (a failed one that was given up gets one more try). A pending one is brought forward.
 */
export async function resendDelivery(
  db: SqlClient,
  endpointId: string,
  deliveryId: string,
): Promise<{ outcome: 'queued' | 'disabled'; endpoint: { id: string; url: string } } | { outcome: 'not_found' }> {
  const rows = await db.$queryRaw<{ enabled: boolean; url: string }[]>`
    WITH target AS (
      SELECT d.id, ep.enabled, ep.url FROM webhook_deliveries d JOIN webhook_endpoints ep ON ep.id = d.endpoint_id
      WHERE d.id = ${deliveryId}::uuid AND d.endpoint_id = ${endpointId}::uuid FOR UPDATE OF d),
    queued AS (
      UPDATE webhook_deliveries d SET status = 'pending', delivered_at = NULL, next_attempt_at = now(), dispatched_at = NULL
      FROM target WHERE d.id = target.id AND target.enabled AND (d.locked_until IS NULL OR d.locked_until < now())
      RETURNING d.id)
    SELECT enabled, url FROM target`;
  const [row] = rows;
  if (!row) return { outcome: 'not_found' };
  return { outcome: row.enabled ? 'queued' : 'disabled', endpoint: { id: endpointId, url: row.url } };
}
