-- The events still to apply, oldest first, in a table of their own. Marking an event applied was an
-- UPDATE of email_events.processed_at: never HOT (processed_at was indexed), so every event was
-- written a second time into the heap and each of the table's indexes. Applying an event now
-- deletes its backlog row instead, and email_events is written once, when it is stored.
--
-- An event is applied exactly when it has no backlog row: the worker deletes the row in the
-- transaction that applies the event's effects and counts, so a rollback puts it back.
CREATE TABLE "email_event_backlog" (
    -- Claim order: the order events were stored in, by one index the claim reads and stops.
    "seq" BIGSERIAL NOT NULL,
    "event_id" UUID NOT NULL,
    -- The event's own created_at, copied (same type): the reconciler's "stored over a minute ago"
    -- is answered here without reading email_events.
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "email_event_backlog_pkey" PRIMARY KEY ("seq")
);

-- One row per event; it also answers "is this event applied?" (the rebuild, pruning) and the
-- cascade when an event is deleted.
CREATE UNIQUE INDEX "email_event_backlog_event_id_key" ON "email_event_backlog"("event_id");

ALTER TABLE "email_event_backlog" ADD CONSTRAINT "email_event_backlog_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "email_events"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Every stored event enters the backlog in the statement that stores it: one INSERT per statement
-- (a webhook batch is one statement), not one per row. No code path can store an event the worker
-- would not see.
CREATE FUNCTION herald_email_events_backlog() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO email_event_backlog (event_id, created_at)
    SELECT id, created_at FROM inserted ORDER BY created_at, id;
  RETURN NULL;
END
$$;

CREATE TRIGGER "email_events_backlog_on_insert" AFTER INSERT ON "email_events"
  REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION herald_email_events_backlog();

-- The events not yet applied when this migration runs, in the order they would have been claimed.
INSERT INTO email_event_backlog (event_id, created_at)
  SELECT id, created_at FROM email_events WHERE processed_at IS NULL ORDER BY created_at, id;

-- Pruning deletes the oldest stored events that are applied: by created_at.
CREATE INDEX "email_events_created_at_idx" ON "email_events"("created_at");

DROP INDEX "email_events_unprocessed_idx";
DROP INDEX "email_events_processed_at_created_at_idx";
ALTER TABLE "email_events" DROP COLUMN "processed_at";

-- The rebuild recounts the applied events: those no longer in the backlog.
CREATE OR REPLACE FUNCTION herald_rebuild_report_aggregates(OUT kept_campaigns uuid[], OUT unattributed_kept boolean)
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
    WHERE NOT EXISTS (SELECT 1 FROM email_event_backlog b WHERE b.event_id = e.id)
      AND k.kind IS NOT NULL AND c.events_pruned_before IS NULL;

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
