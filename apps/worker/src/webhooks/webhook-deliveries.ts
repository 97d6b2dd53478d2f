import type { Db, SqlClient } from '@herald/shared';
import type { StoredWebhookEvent } from './webhook-body.js';

/** A delivery claimed for one attempt, with what the attempt needs. */
export type ClaimedDelivery = {
  id: string;
  attempts: number;
  endpointId: string;
  url: string;
  secret: string;
  event: StoredWebhookEvent;
};

/**
 * Takes delivery `id` for attempt `attempt + 1`, if it is still that attempt's turn: pending, due,
 * its endpoint enabled, and no other worker holding it (a worker that died holding it lets go at
 * `lockMs`). Two jobs for one attempt (a job re-added after Redis lost the first) make one POST.
 */
export async function claimDelivery(db: SqlClient, id: string, attempt: number, lockMs: number): Promise<ClaimedDelivery | undefined> {
  const rows = await db.$queryRaw<
    { id: string; attempts: number; endpoint_id: string; url: string; secret: string; event_id: string; type: string; data: unknown; created_at: Date }[]
  >`
    UPDATE webhook_deliveries d SET locked_until = now() + ${lockMs} * interval '1 millisecond'
    FROM webhook_endpoints ep, webhook_events e
    WHERE d.id = ${id}::uuid AND d.attempts = ${attempt} AND d.status = 'pending' AND d.next_attempt_at <= now()
      AND (d.locked_until IS NULL OR d.locked_until < now())
      AND ep.id = d.endpoint_id AND ep.enabled AND e.id = d.event_id
    RETURNING d.id, d.attempts, ep.id AS endpoint_id, ep.url, ep.secret, e.id AS event_id, e.type, e.data, e.created_at`;
  const row = rows[0];
  if (!row) return undefined;
  return {
    id: row.id,
    attempts: row.attempts,
    endpointId: row.endpoint_id,
    url: row.url,
    secret: row.secret,
    event: { id: row.event_id, type: row.type, data: row.data, createdAt: row.created_at },
  };
}

export type AttemptRecord = {
  attemptedAt: Date;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  excerpt: string | null;
  /** delivered; pending again at `retryAt`; or failed (given up). */
  result: { status: 'delivered' } | { status: 'pending'; retryAt: Date } | { status: 'failed' };
};

export type EndpointPolicy = {
  /** An endpoint that has failed every attempt for this long is disabled. */
  disableAfterMs: number;
};

/**
 * Records an attempt and its consequences in one transaction: the attempt row, the delivery's new
 * state, and the endpoint's run of failures, which disables it once every attempt for
 * `disableAfterMs` has failed. Returns whether this attempt disabled the endpoint. Nothing is
 * recorded when the delivery is gone (its endpoint was deleted meanwhile).
 */
export async function recordAttempt(
  db: Db,
  delivery: ClaimedDelivery,
  record: AttemptRecord,
  policy: EndpointPolicy,
): Promise<{ disabled: boolean }> {
  return db.$transaction(async (tx) => {
    const { result } = record;
    const updated = await tx.$executeRaw`
      UPDATE webhook_deliveries SET
        attempts = attempts + 1, last_attempt_at = ${record.attemptedAt}, locked_until = NULL, dispatched_at = NULL,
        status = ${result.status}::text,
        delivered_at = ${result.status === 'delivered' ? record.attemptedAt : null}::timestamp(3),
        next_attempt_at = ${result.status === 'pending' ? result.retryAt : record.attemptedAt}::timestamp(3)
      WHERE id = ${delivery.id}::uuid AND attempts = ${delivery.attempts}`;
    if (updated === 0) return { disabled: false };
    await tx.$executeRaw`
      INSERT INTO webhook_attempts (delivery_id, attempted_at, duration_ms, status_code, error, response_excerpt)
      VALUES (${delivery.id}::uuid, ${record.attemptedAt}, ${record.durationMs}, ${record.statusCode}, ${record.error}, ${record.excerpt})`;
    if (result.status === 'delivered') {
      await tx.$executeRaw`UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ${delivery.endpointId}::uuid AND failing_since IS NOT NULL`;
      return { disabled: false };
    }
    const reason = `Disabled after every attempt failed for ${describeDuration(policy.disableAfterMs)}; the last: ${record.statusCode ?? record.error}.`;
    const cutoff = new Date(record.attemptedAt.getTime() - policy.disableAfterMs);
    const [endpoint] = await tx.$queryRaw<{ disabled: boolean }[]>`
      WITH run AS (
        SELECT id, coalesce(failing_since, ${record.attemptedAt}::timestamp(3)) AS since FROM webhook_endpoints
        WHERE id = ${delivery.endpointId}::uuid AND enabled FOR UPDATE)
      UPDATE webhook_endpoints ep SET
        failing_since = run.since,
        enabled = run.since > ${cutoff}::timestamp(3),
        disabled_at = CASE WHEN run.since <= ${cutoff}::timestamp(3) THEN ${record.attemptedAt}::timestamp(3) END,
        disabled_reason = CASE WHEN run.since <= ${cutoff}::timestamp(3) THEN ${reason}::text END,
        updated_at = CASE WHEN run.since <= ${cutoff}::timestamp(3) THEN now() ELSE ep.updated_at END
      FROM run WHERE ep.id = run.id
      RETURNING NOT ep.enabled AS disabled`;
    return { disabled: endpoint?.disabled ?? false };
  });
}

function describeDuration(ms: number): string {
  if (ms >= 3_600_000) return `${Math.round(ms / 3_600_000)} h`;
  if (ms >= 60_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 1000)} s`;
}

/**
 * Due attempts the dispatcher should give a job: pending, due, the endpoint enabled, not being made,
 * and not given a job in the last minute. Marks them dispatched in the same statement, so two
 * dispatchers (two worker processes) do not both enqueue them, and a job lost with Redis is
 * given again a minute later.
 */
export async function takeDueDeliveries(db: SqlClient, limit: number): Promise<{ id: string; attempts: number }[]> {
  return db.$queryRaw<{ id: string; attempts: number }[]>`
    WITH due AS (
      SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints ep ON ep.id = d.endpoint_id AND ep.enabled
      WHERE d.status = 'pending' AND d.next_attempt_at <= now()
        AND (d.locked_until IS NULL OR d.locked_until < now())
        AND (d.dispatched_at IS NULL OR d.dispatched_at < now() - interval '1 minute')
      ORDER BY d.next_attempt_at LIMIT ${limit}
      FOR UPDATE OF d SKIP LOCKED)
    UPDATE webhook_deliveries d SET dispatched_at = now() FROM due WHERE d.id = due.id
    RETURNING d.id, d.attempts`;
}
