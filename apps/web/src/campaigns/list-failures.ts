import type { Db } from '@herald/shared';
import { encodeTimeIdCursor, timeIdCursor } from '../http/time-id-cursor.js';

export type Failure = { id: string; email: string | null; attempts: number; lastError: string | null; failedAt: Date };

/** A page position: the last failure shown, as `<ISO time>_<delivery id>`. */
export const failureCursor = timeIdCursor;

export function encodeFailureCursor(failure: Failure): string {
  return encodeTimeIdCursor(failure.failedAt, failure.id);
}

/**
 * A campaign's failed deliveries, most recent first, with the reason and the address (null once
 * erased), keyset-paged by (failure time, id). The (campaign_id, status, id) index finds the
 * failed rows; failures are few next to an audience, so sorting them is cheap.
 */
export async function listFailures(
  db: Db,
  campaignId: string,
  options: { before?: { at: Date; id: string }; limit: number },
): Promise<{ failures: Failure[]; next: string | null }> {
  const rows = await db.$queryRaw<Failure[]>`
    SELECT d.id, s.email, d.attempts, d.last_error AS "lastError", d.updated_at AS "failedAt"
    FROM deliveries d LEFT JOIN subscribers s ON s.id = d.subscriber_id
    WHERE d.campaign_id = ${campaignId}::uuid AND d.status = 'failed'
      AND (${options.before?.at ?? null}::timestamp IS NULL
           OR (d.updated_at, d.id) < (${options.before?.at ?? null}::timestamp, ${options.before?.id ?? null}::uuid))
    ORDER BY d.updated_at DESC, d.id DESC
    LIMIT ${options.limit + 1}`;
  const failures = rows.slice(0, options.limit);
  return { failures, next: rows.length > options.limit ? encodeFailureCursor(failures.at(-1)!) : null };
}
