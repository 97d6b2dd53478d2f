import type { SqlClient } from '@herald/shared';

const batchSize = 5_000;

/**
 * Deletes webhook events older than `retentionDays`, with their deliveries and attempts (foreign
 * keys cascade), a batch at a time and for at most `budgetMs`. By then every delivery of them has
 * been delivered or given up. Returns how many events were deleted.
 */
export async function pruneWebhookEvents(db: SqlClient, retentionDays: number, budgetMs: number): Promise<number> {
  const until = Date.now() + budgetMs;
  let pruned = 0;
  for (;;) {
    const deleted = await db.$executeRaw`
      DELETE FROM webhook_events WHERE id IN (
        SELECT id FROM webhook_events WHERE created_at < now() - ${retentionDays} * interval '1 day'
        ORDER BY created_at LIMIT ${batchSize})`;
    pruned += deleted;
    if (deleted < batchSize || Date.now() > until) return pruned;
  }
}
