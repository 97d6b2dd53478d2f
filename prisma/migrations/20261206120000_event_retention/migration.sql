-- AlterTable
ALTER TABLE "campaigns" ADD COLUMN     "events_pruned_before" TIMESTAMP(3);

-- CreateTable
CREATE TABLE "email_event_retention" (
    "id" BOOLEAN NOT NULL DEFAULT true,
    "pruned_before" TIMESTAMP(3) NOT NULL,
    "pruned_events" BIGINT NOT NULL DEFAULT 0,
    "unattributed_pruned_before" TIMESTAMP(3),
    "last_pruned_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "email_event_retention_pkey" PRIMARY KEY ("id")
);

-- One row at most.
ALTER TABLE "email_event_retention" ADD CONSTRAINT "email_event_retention_one_row" CHECK ("id"),
  ADD CONSTRAINT "email_event_retention_counts" CHECK ("pruned_events" >= 0);

-- The rebuild now recounts only what the stored events still count in full: every campaign none of
-- whose counted events were pruned, and the unattributed hours unless one of theirs was. What was
-- pruned cannot be recounted, so those aggregates are left exactly as the workers kept them; the
-- function returns which campaigns (kept_campaigns) and whether the unattributed hours were kept.
-- With nothing pruned it recounts everything, as before.
DROP FUNCTION herald_rebuild_report_aggregates();
CREATE FUNCTION herald_rebuild_report_aggregates(OUT kept_campaigns uuid[], OUT unattributed_kept boolean)
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('herald report aggregates'));
  SELECT coalesce(array_agg(id ORDER BY id), '{}') INTO kept_campaigns FROM campaigns WHERE events_pruned_before IS NOT NULL;
  SELECT EXISTS (SELECT 1 FROM email_event_retention WHERE unattributed_pruned_before IS NOT NULL) INTO unattributed_kept;

  -- An erased person's click keeps only the link's digest (url_hash): the link as counted stays.
  DROP TABLE IF EXISTS herald_link_urls;
  CREATE TEMP TABLE herald_link_urls ON COMMIT DROP AS SELECT campaign_id, url_hash, url FROM campaign_link_clicks;
  IF cardinality(kept_campaigns) = 0 THEN
    TRUNCATE campaign_event_hours, delivery_event_firsts, campaign_link_clicks, delivery_link_clicks;
  ELSE
    DELETE FROM campaign_event_hours a USING campaigns c WHERE c.id = a.campaign_id AND c.events_pruned_before IS NULL;
    DELETE FROM delivery_event_firsts a USING campaigns c WHERE c.id = a.campaign_id AND c.events_pruned_before IS NULL;
    DELETE FROM campaign_link_clicks a USING campaigns c WHERE c.id = a.campaign_id AND c.events_pruned_before IS NULL;
    DELETE FROM delivery_link_clicks a USING campaigns c WHERE c.id = a.campaign_id AND c.events_pruned_before IS NULL;
  END IF;
  IF NOT unattributed_kept THEN
    TRUNCATE unattributed_event_hours;
  END IF;

  DROP TABLE IF EXISTS herald_reported;
  CREATE TEMP TABLE herald_reported ON COMMIT DROP AS
    SELECT e.delivery_id, d.campaign_id, k.kind, e.occurred_at, e.payload->>'url' AS url,
           coalesce(e.payload->>'url_hash', md5(e.payload->>'url')) AS url_hash,
           e.payload->>'herald_subscriber_id' IS NOT NULL AS transactional
    FROM email_events e
    LEFT JOIN deliveries d ON d.id = e.delivery_id
    LEFT JOIN campaigns c ON c.id = d.campaign_id
    CROSS JOIN LATERAL (SELECT herald_report_kind(e.type, e.payload->>'type') AS kind) k
    WHERE e.processed_at IS NOT NULL AND k.kind IS NOT NULL AND c.events_pruned_before IS NULL;

  INSERT INTO delivery_event_firsts (delivery_id, kind, campaign_id, first_at)
    SELECT delivery_id, kind, campaign_id, min(occurred_at) FROM herald_reported
    WHERE campaign_id IS NOT NULL GROUP BY delivery_id, kind, campaign_id;

  INSERT INTO campaign_event_hours (campaign_id, kind, hour, events, uniques)
    SELECT campaign_id, kind, hour, sum(events), sum(uniques) FROM (
      SELECT campaign_id, kind, date_trunc('hour', occurred_at) AS hour, count(*) AS events, 0 AS uniques
      FROM herald_reported WHERE campaign_id IS NOT NULL GROUP BY 1, 2, 3
      UNION ALL
      SELECT f.campaign_id, f.kind, date_trunc('hour', f.first_at), 0, count(*) FROM delivery_event_firsts f
      JOIN campaigns c ON c.id = f.campaign_id WHERE c.events_pruned_before IS NULL GROUP BY 1, 2, 3
    ) counted GROUP BY campaign_id, kind, hour;

  INSERT INTO delivery_link_clicks (delivery_id, url_hash, campaign_id, first_at)
    SELECT delivery_id, url_hash, campaign_id, min(occurred_at) FROM herald_reported
    WHERE campaign_id IS NOT NULL AND kind = 'clicked' AND url_hash IS NOT NULL GROUP BY delivery_id, url_hash, campaign_id;

  INSERT INTO campaign_link_clicks (campaign_id, url_hash, url, clicks, unique_clicks)
    SELECT r.campaign_id, r.url_hash, coalesce(min(r.url), min(known.url), '(a link only erased people clicked)'), count(*), count(DISTINCT r.delivery_id)
    FROM herald_reported r LEFT JOIN herald_link_urls known ON known.campaign_id = r.campaign_id AND known.url_hash = r.url_hash
    WHERE r.campaign_id IS NOT NULL AND r.kind = 'clicked' AND r.url_hash IS NOT NULL GROUP BY r.campaign_id, r.url_hash;

  IF NOT unattributed_kept THEN
    INSERT INTO unattributed_event_hours (kind, hour, events)
      SELECT kind, date_trunc('hour', occurred_at), count(*) FROM herald_reported
      WHERE campaign_id IS NULL AND NOT transactional GROUP BY 1, 2;
  END IF;
END
$$;
