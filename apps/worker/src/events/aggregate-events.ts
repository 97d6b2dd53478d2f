import { Prisma } from '@herald/shared';

/**
 * Adds events to the report aggregates (campaign_event_hours, delivery_event_firsts,
 * campaign_link_clicks, delivery_link_clicks, unattributed_event_hours), in the transaction that
 * marks them processed, so each event counts exactly once. The result always equals what
 * herald_rebuild_report_aggregates() recounts from the processed events; a test holds the two
 * together.
 *
 * Unique counts: a recipient counts in the hour of their first event of a kind. An earlier event
 * that arrives later (SendGrid does not keep order) moves that recipient to its hour, taking them
 * out of the one they were in. The transaction lock makes batches apply one at a time across
 * workers, so the first events read here are never stale; batches are small and the statements
 * set-based, so it costs little.
 */
export async function aggregateEvents(tx: Prisma.TransactionClient, eventIds: string[]): Promise<void> {
  if (eventIds.length === 0) return;
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('herald report aggregates'))`;
  // The batch's reported events, read again by each statement (by primary key, a few hundred rows)
  // rather than kept in a temporary table, whose catalog rows every batch would churn. The campaign
  // is a subquery, one primary-key lookup per event: as a join it is planned as a hash join over a
  // sequential scan of every campaign's deliveries.
  const reported = Prisma.sql`reported AS (
    SELECT e.delivery_id, (SELECT d.campaign_id FROM deliveries d WHERE d.id = e.delivery_id) AS campaign_id,
           k.kind, e.occurred_at, e.payload->>'url' AS url,
           coalesce(e.payload->>'url_hash', md5(e.payload->>'url')) AS url_hash,
           e.payload->>'herald_subscriber_id' IS NOT NULL AS transactional
    FROM email_events e
    CROSS JOIN LATERAL (SELECT herald_report_kind(e.type, e.payload->>'type') AS kind) k
    WHERE e.id = ANY(${eventIds}::uuid[]) AND k.kind IS NOT NULL)`;

  // Every event in its hour.
  await tx.$executeRaw`
    WITH ${reported}
    INSERT INTO campaign_event_hours AS h (campaign_id, kind, hour, events)
    SELECT campaign_id, kind, date_trunc('hour', occurred_at), count(*) FROM reported
    WHERE campaign_id IS NOT NULL GROUP BY 1, 2, 3
    ON CONFLICT (campaign_id, kind, hour) DO UPDATE SET events = h.events + EXCLUDED.events`;
  await tx.$executeRaw`
    WITH ${reported}
    INSERT INTO unattributed_event_hours AS h (kind, hour, events)
    SELECT kind, date_trunc('hour', occurred_at), count(*) FROM reported
    WHERE campaign_id IS NULL AND NOT transactional GROUP BY 1, 2
    ON CONFLICT (kind, hour) DO UPDATE SET events = h.events + EXCLUDED.events`;

  // First events: new recipients count in their hour; one whose first event is now earlier
  // moves from the old hour to the new one. `before` is read in the same snapshot as the upsert.
  await tx.$executeRaw`
    WITH ${reported}, batch AS (
      SELECT delivery_id, kind, campaign_id, min(occurred_at) AS first_at FROM reported
      WHERE campaign_id IS NOT NULL GROUP BY 1, 2, 3
    ), before AS (
      -- By primary key, a lookup per recipient: as a join it can be planned as a scan of the table.
      SELECT * FROM (
        SELECT b.delivery_id, b.kind,
               (SELECT f.first_at FROM delivery_event_firsts f WHERE f.delivery_id = b.delivery_id AND f.kind = b.kind) AS first_at
        FROM batch b) known
      WHERE first_at IS NOT NULL
    ), changed AS (
      INSERT INTO delivery_event_firsts AS f (delivery_id, kind, campaign_id, first_at)
      SELECT delivery_id, kind, campaign_id, first_at FROM batch
      ON CONFLICT (delivery_id, kind) DO UPDATE SET first_at = EXCLUDED.first_at WHERE EXCLUDED.first_at < f.first_at
      RETURNING f.delivery_id, f.kind, f.campaign_id, f.first_at
    ), moves AS (
      SELECT c.campaign_id, c.kind, date_trunc('hour', c.first_at) AS hour, 1 AS delta FROM changed c
      UNION ALL
      SELECT c.campaign_id, c.kind, date_trunc('hour', b.first_at), -1 FROM changed c JOIN before b USING (delivery_id, kind)
    )
    -- Both hours already have a row: the new one from this batch's events, the old one from the
    -- event that was first until now.
    UPDATE campaign_event_hours h SET uniques = h.uniques + m.delta
    FROM (SELECT campaign_id, kind, hour, sum(delta)::int AS delta FROM moves GROUP BY 1, 2, 3) m
    WHERE h.campaign_id = m.campaign_id AND h.kind = m.kind AND h.hour = m.hour`;

  // Clicks per link, and which recipients clicked it (unique clicks).
  await tx.$executeRaw`
    WITH ${reported}, batch AS (
      SELECT delivery_id, url_hash, campaign_id, min(occurred_at) AS first_at FROM reported
      WHERE campaign_id IS NOT NULL AND kind = 'clicked' AND url_hash IS NOT NULL GROUP BY 1, 2, 3
    ), first_clicks AS (
      INSERT INTO delivery_link_clicks AS f (delivery_id, url_hash, campaign_id, first_at)
      SELECT delivery_id, url_hash, campaign_id, first_at FROM batch
      ON CONFLICT (delivery_id, url_hash) DO UPDATE SET first_at = EXCLUDED.first_at WHERE EXCLUDED.first_at < f.first_at
      RETURNING f.campaign_id, f.url_hash, (xmax = 0) AS inserted
    ), clicks AS (
      SELECT campaign_id, url_hash, coalesce(min(url), '(a link only erased people clicked)') AS url, count(*) AS clicks FROM reported
      WHERE campaign_id IS NOT NULL AND kind = 'clicked' AND url_hash IS NOT NULL GROUP BY 1, 2
    )
    INSERT INTO campaign_link_clicks AS l (campaign_id, url_hash, url, clicks, unique_clicks)
    SELECT c.campaign_id, c.url_hash, c.url, c.clicks,
           (SELECT count(*) FROM first_clicks f WHERE f.campaign_id = c.campaign_id AND f.url_hash = c.url_hash AND f.inserted)
    FROM clicks c
    ON CONFLICT (campaign_id, url_hash) DO UPDATE SET clicks = l.clicks + EXCLUDED.clicks, unique_clicks = l.unique_clicks + EXCLUDED.unique_clicks`;
}
