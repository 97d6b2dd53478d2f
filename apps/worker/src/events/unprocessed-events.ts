import type { SqlClient } from '@herald/shared';

/**
 * Webhook events stored over a minute ago and still in the backlog (unapplied): their processing job never got
 * into Redis (it was down when they arrived) or was lost. The minute of grace leaves the webhook's
 * own job time to run.
 */
export async function countUnprocessedEvents(db: SqlClient): Promise<number> {
  const [row] = await db.$queryRaw<{ count: number }[]>`
    SELECT count(*)::int AS count FROM email_event_backlog
    WHERE created_at < now() - interval '1 minute'`;
  return row?.count ?? 0;
}
