import type { Db } from '@herald/shared';

/** Rows per DELETE: each statement holds its row locks and the aggregates' lock for well under a second. */
export const pruneBatchSize = 10_000;

export type PruneOptions = {
  /** Applied events stored before this are deleted. */
  before: Date;
  /** Stop starting batches after this long; what is left goes at the next run. */
  budgetMs: number;
  batchSize?: number;
};

export type PruneResult = {
  pruned: number;
  batches: number;
  /** False when the budget ran out with events still to delete. */
  complete: boolean;
};

/**
 * One batch: deletes up to `batchSize` applied raw events stored before `before` (oldest first,
 * through the created_at index) and, in the same statement, records what can no
 * longer be recounted from them: each campaign one of whose counted events went
 * (`campaigns.events_pruned_before`), and in `email_event_retention` the total and whether a
 * counted event of no known delivery went (the unattributed hours). Unapplied events are never
 * touched: their row stays in email_event_backlog until their effects and counts are in.
 *
 * Under the lock the workers take to apply events and the rebuild takes
 * (herald_rebuild_report_aggregates), so a rebuild never sees an event gone without its mark. Rows
 * another transaction holds are skipped rather than waited for. The campaign's `updated_at` is left
 * alone: the fan-out's job ids are keyed by it.
 */
async function pruneBatch(db: Db, before: Date, batchSize: number): Promise<number> {
  const [, rows] = await db.$transaction([
    db.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('herald report aggregates'))`,
    db.$queryRaw<{ pruned: number }[]>`
      WITH doomed AS (
        SELECT e.id FROM email_events e WHERE e.created_at < ${before}
          AND NOT EXISTS (SELECT 1 FROM email_event_backlog b WHERE b.event_id = e.id)
        ORDER BY e.created_at LIMIT ${batchSize} FOR UPDATE OF e SKIP LOCKED
      ), gone AS (
        DELETE FROM email_events e USING doomed WHERE e.id = doomed.id
        RETURNING e.delivery_id, herald_report_kind(e.type, e.payload->>'type') IS NOT NULL AS counted,
                  e.payload->>'herald_subscriber_id' IS NOT NULL AS transactional
      ), attributed AS (
        SELECT g.counted, g.transactional, d.campaign_id FROM gone g LEFT JOIN deliveries d ON d.id = g.delivery_id
      ), marked AS (
        UPDATE campaigns c SET events_pruned_before = ${before}
        FROM (SELECT DISTINCT campaign_id FROM attributed WHERE counted AND campaign_id IS NOT NULL) t
        WHERE c.id = t.campaign_id AND (c.events_pruned_before IS NULL OR c.events_pruned_before < ${before})
      ), recorded AS (
        INSERT INTO email_event_retention AS r (id, pruned_before, pruned_events, unattributed_pruned_before, last_pruned_at)
        SELECT true, ${before}, count(*), CASE WHEN bool_or(counted AND campaign_id IS NULL AND NOT transactional) THEN ${before}::timestamp END, now()
        FROM attributed HAVING count(*) > 0
        ON CONFLICT (id) DO UPDATE SET
          pruned_before = greatest(r.pruned_before, EXCLUDED.pruned_before),
          pruned_events = r.pruned_events + EXCLUDED.pruned_events,
          unattributed_pruned_before = greatest(r.unattributed_pruned_before, EXCLUDED.unattributed_pruned_before),
          last_pruned_at = EXCLUDED.last_pruned_at
      )
      SELECT count(*)::int AS pruned FROM attributed`,
  ]);
  return rows[0]?.pruned ?? 0;
}

/**
 * EVENT_RETENTION_DAYS: deletes applied raw events stored before `before`, a batch per statement, until
 * none is left or the budget is spent. The report aggregates and the per-recipient rows behind the
 * reports' lists stay; only a recount of them from the raw events becomes impossible, which the
 * marks record. Several workers may run it at once: SKIP LOCKED keeps them off each other's rows.
 */
export async function pruneAppliedEvents(db: Db, options: PruneOptions): Promise<PruneResult> {
  const batchSize = options.batchSize ?? pruneBatchSize;
  const deadline = performance.now() + options.budgetMs;
  const result: PruneResult = { pruned: 0, batches: 0, complete: false };
  while (performance.now() < deadline) {
    const pruned = await pruneBatch(db, options.before, batchSize);
    result.pruned += pruned;
    result.batches += 1;
    if (pruned < batchSize) {
      result.complete = true;
      break;
    }
  }
  return result;
}
