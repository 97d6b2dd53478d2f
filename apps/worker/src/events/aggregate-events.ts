import type { Prisma } from '@herald/shared';

/** A claimed event that may change its subscriber's state (classifyEvent decides). */
export type SuppressionCandidate = {
  type: string;
  subscriberId: string;
  bounceType: string | null;
  reason: string | null;
  classification: string | null;
};

export type ClaimedBatch = {
  /** Backlog rows claimed and deleted: the events applied. */
  claimed: number;
  candidates: SuppressionCandidate[];
};

/** Recipients whose first event of a kind moved to an earlier hour: taken out of the one they were in. */
type Move = { campaign_id: string; kind: string; hour: string; recipients: number };

/**
 * Claims up to `limit` events from the backlog, oldest first, and adds them to the report
 * aggregates (campaign_event_hours, delivery_event_firsts, campaign_link_clicks,
 * delivery_link_clicks, unattributed_event_hours) in one statement: the backlog rows it deletes
 * carry everything the counts need (the event_backlog_facts migration), so each event is read
 * once, and nothing else but each delivery's campaign. Deleting a row and counting its event are
 * one statement of the caller's transaction: an event never leaves the backlog uncounted, nor is
 * counted twice. The result always equals what herald_rebuild_report_aggregates() recounts from
 * the stored events; a test holds the two together.
 *
 * Unique counts: a recipient counts in the hour of their first event of a kind. An earlier event
 * that arrives later (SendGrid does not keep order) moves that recipient to its hour, taking them
 * out of the one they were in: in a second statement, as one statement cannot change a row twice
 * and the insert that adds to an hour can only add. The transaction lock makes batches apply one
 * at a time across workers, so the first events read here are never stale; SKIP LOCKED passes
 * over a row an erasure in progress is rewriting (its trigger keeps the row in step) instead of
 * waiting for it: the row is claimed by the next batch.
 *
 * Also returns the claimed events that may suppress their subscriber (of `suppressingTypes`).
 */
export async function claimAndAggregate(tx: Prisma.TransactionClient, limit: number, suppressingTypes: string[]): Promise<ClaimedBatch> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('herald report aggregates'))`;
  const [result] = await tx.$queryRaw<{ claimed: number; candidates: SuppressionCandidate[]; moves: Move[] }[]>`
    WITH claimed AS (
      DELETE FROM email_event_backlog WHERE seq IN (
        SELECT seq FROM email_event_backlog ORDER BY seq LIMIT ${limit} FOR UPDATE SKIP LOCKED)
      RETURNING type, occurred_at, delivery_id, subscriber_id, kind, url, url_hash, transactional, bounce_type, reason, classification
    ), reported AS (
      -- The campaign is a subquery, one primary-key lookup per event: as a join it is planned as a
      -- hash join over a sequential scan of every campaign's deliveries.
      SELECT delivery_id, (SELECT d.campaign_id FROM deliveries d WHERE d.id = c.delivery_id) AS campaign_id,
             kind, occurred_at, url, url_hash, transactional
      FROM claimed c WHERE kind IS NOT NULL
    ), unattributed AS (
      INSERT INTO unattributed_event_hours AS h (kind, hour, events)
      SELECT kind, date_trunc('hour', occurred_at), count(*) FROM reported
      WHERE campaign_id IS NULL AND NOT transactional GROUP BY 1, 2
      ON CONFLICT (kind, hour) DO UPDATE SET events = h.events + EXCLUDED.events
    ), firsts AS (
      SELECT delivery_id, kind, campaign_id, min(occurred_at) AS first_at FROM reported
      WHERE campaign_id IS NOT NULL GROUP BY 1, 2, 3
    ), known_firsts AS (
      -- Read in the statement's snapshot, before changed_firsts writes: the hour a recipient
      -- counted in until now. By primary key, a lookup per recipient: as a join it can be planned
      -- as a scan of the table.
      SELECT * FROM (
        SELECT b.delivery_id, b.kind,
               (SELECT f.first_at FROM delivery_event_firsts f WHERE f.delivery_id = b.delivery_id AND f.kind = b.kind) AS first_at
        FROM firsts b) known
      WHERE first_at IS NOT NULL
    ), changed_firsts AS (
      INSERT INTO delivery_event_firsts AS f (delivery_id, kind, campaign_id, first_at)
      SELECT delivery_id, kind, campaign_id, first_at FROM firsts
      ON CONFLICT (delivery_id, kind) DO UPDATE SET first_at = EXCLUDED.first_at WHERE EXCLUDED.first_at < f.first_at
      RETURNING f.delivery_id, f.kind, f.campaign_id, f.first_at
    ), hours AS (
      -- Every event in its hour, and each recipient whose first event it now is.
      INSERT INTO campaign_event_hours AS h (campaign_id, kind, hour, events, uniques)
      SELECT campaign_id, kind, hour, sum(events), sum(uniques) FROM (
        SELECT campaign_id, kind, date_trunc('hour', occurred_at) AS hour, count(*) AS events, 0 AS uniques FROM reported
        WHERE campaign_id IS NOT NULL GROUP BY 1, 2, 3
        UNION ALL
        SELECT campaign_id, kind, date_trunc('hour', first_at), 0, count(*) FROM changed_firsts GROUP BY 1, 2, 3
      ) counted GROUP BY 1, 2, 3
      ON CONFLICT (campaign_id, kind, hour) DO UPDATE SET events = h.events + EXCLUDED.events, uniques = h.uniques + EXCLUDED.uniques
    ), link_firsts AS (
      SELECT delivery_id, url_hash, campaign_id, min(occurred_at) AS first_at FROM reported
      WHERE campaign_id IS NOT NULL AND kind = 'clicked' AND url_hash IS NOT NULL GROUP BY 1, 2, 3
    ), first_clicks AS (
      INSERT INTO delivery_link_clicks AS f (delivery_id, url_hash, campaign_id, first_at)
      SELECT delivery_id, url_hash, campaign_id, first_at FROM link_firsts
      ON CONFLICT (delivery_id, url_hash) DO UPDATE SET first_at = EXCLUDED.first_at WHERE EXCLUDED.first_at < f.first_at
      RETURNING f.campaign_id, f.url_hash, (xmax = 0) AS inserted
    ), links AS (
      -- Clicks per link, and the recipients who clicked it for the first time (unique clicks).
      INSERT INTO campaign_link_clicks AS l (campaign_id, url_hash, url, clicks, unique_clicks)
      SELECT c.campaign_id, c.url_hash, c.url, c.clicks,
             (SELECT count(*) FROM first_clicks f WHERE f.campaign_id = c.campaign_id AND f.url_hash = c.url_hash AND f.inserted)
      FROM (
        SELECT campaign_id, url_hash, coalesce(min(url), '(a link only erased people clicked)') AS url, count(*) AS clicks FROM reported
        WHERE campaign_id IS NOT NULL AND kind = 'clicked' AND url_hash IS NOT NULL GROUP BY 1, 2
      ) c
      ON CONFLICT (campaign_id, url_hash) DO UPDATE SET clicks = l.clicks + EXCLUDED.clicks, unique_clicks = l.unique_clicks + EXCLUDED.unique_clicks
    )
    SELECT
      (SELECT count(*)::int FROM claimed) AS claimed,
      (SELECT coalesce(json_agg(json_build_object('type', type, 'subscriberId', subscriber_id, 'bounceType', bounce_type,
                                                  'reason', reason, 'classification', classification)), '[]')
       FROM claimed WHERE subscriber_id IS NOT NULL AND type = ANY(${suppressingTypes}::text[])) AS candidates,
      (SELECT coalesce(json_agg(m), '[]') FROM (
         SELECT c.campaign_id, c.kind, date_trunc('hour', k.first_at) AS hour, count(*)::int AS recipients
         FROM changed_firsts c JOIN known_firsts k USING (delivery_id, kind) GROUP BY 1, 2, 3) m) AS moves`;
  const { claimed, candidates, moves } = result!;
  if (moves.length > 0) {
    // The hour each moved recipient was counted in has its row: the event that was first until now.
    await tx.$executeRaw`
      UPDATE campaign_event_hours h SET uniques = h.uniques - m.recipients
      FROM jsonb_to_recordset(${JSON.stringify(moves)}::jsonb) AS m(campaign_id uuid, kind text, hour timestamp, recipients int)
      WHERE h.campaign_id = m.campaign_id AND h.kind = m.kind AND h.hour = m.hour`;
  }
  return { claimed, candidates };
}
