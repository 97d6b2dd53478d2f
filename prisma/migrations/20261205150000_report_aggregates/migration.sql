-- CreateTable
CREATE TABLE "campaign_event_hours" (
    "campaign_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "hour" TIMESTAMP(3) NOT NULL,
    "events" INTEGER NOT NULL DEFAULT 0,
    "uniques" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "campaign_event_hours_pkey" PRIMARY KEY ("campaign_id","kind","hour")
);

-- CreateTable
CREATE TABLE "delivery_event_firsts" (
    "delivery_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "campaign_id" UUID NOT NULL,
    "first_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "delivery_event_firsts_pkey" PRIMARY KEY ("delivery_id","kind")
);

-- CreateTable
CREATE TABLE "campaign_link_clicks" (
    "campaign_id" UUID NOT NULL,
    "url_hash" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "clicks" INTEGER NOT NULL DEFAULT 0,
    "unique_clicks" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "campaign_link_clicks_pkey" PRIMARY KEY ("campaign_id","url_hash")
);

-- CreateTable
CREATE TABLE "delivery_link_clicks" (
    "delivery_id" UUID NOT NULL,
    "url_hash" TEXT NOT NULL,
    "campaign_id" UUID NOT NULL,
    "first_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "delivery_link_clicks_pkey" PRIMARY KEY ("delivery_id","url_hash")
);

-- CreateTable
CREATE TABLE "unattributed_event_hours" (
    "kind" TEXT NOT NULL,
    "hour" TIMESTAMP(3) NOT NULL,
    "events" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "unattributed_event_hours_pkey" PRIMARY KEY ("kind","hour")
);

-- CreateIndex
CREATE INDEX "delivery_event_firsts_campaign_id_kind_first_at_delivery_id_idx" ON "delivery_event_firsts"("campaign_id", "kind", "first_at", "delivery_id");

-- CreateIndex
CREATE INDEX "delivery_link_clicks_campaign_id_url_hash_first_at_delivery_idx" ON "delivery_link_clicks"("campaign_id", "url_hash", "first_at", "delivery_id");

-- AddForeignKey
ALTER TABLE "campaign_event_hours" ADD CONSTRAINT "campaign_event_hours_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaigns"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "delivery_event_firsts" ADD CONSTRAINT "delivery_event_firsts_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaigns"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "campaign_link_clicks" ADD CONSTRAINT "campaign_link_clicks_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaigns"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "delivery_link_clicks" ADD CONSTRAINT "delivery_link_clicks_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaigns"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- What a report counts an event as, from its SendGrid type (and a bounce's own type): the one
-- mapping the aggregates, their rebuild and the campaign page share. NULL: not reported
-- (processed, deferred, group_resubscribe).
CREATE FUNCTION herald_report_kind(event_type text, bounce_type text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN event_type = 'delivered' THEN 'delivered'
    WHEN event_type = 'open' THEN 'opened'
    WHEN event_type = 'click' THEN 'clicked'
    WHEN event_type = 'bounce' AND coalesce(bounce_type, 'bounce') = 'bounce' THEN 'bounced'
    WHEN event_type = 'bounce' AND bounce_type = 'blocked' THEN 'blocked'
    WHEN event_type = 'dropped' THEN 'dropped'
    WHEN event_type = 'spamreport' THEN 'complained'
    WHEN event_type IN ('unsubscribe', 'group_unsubscribe') THEN 'unsubscribed'
  END
$$;

-- Counts never go negative, a recipient's first event is one of the hour's events, and a link's
-- unique clicks are some of its clicks: an aggregate that broke one of these is refused, not stored.
ALTER TABLE "campaign_event_hours" ADD CONSTRAINT "campaign_event_hours_counts" CHECK ("events" >= 0 AND "uniques" >= 0 AND "uniques" <= "events"),
  ADD CONSTRAINT "campaign_event_hours_kind" CHECK ("kind" IN ('delivered', 'opened', 'clicked', 'bounced', 'blocked', 'dropped', 'complained', 'unsubscribed')),
  ADD CONSTRAINT "campaign_event_hours_hour" CHECK ("hour" = date_trunc('hour', "hour"));
ALTER TABLE "delivery_event_firsts" ADD CONSTRAINT "delivery_event_firsts_kind" CHECK ("kind" IN ('delivered', 'opened', 'clicked', 'bounced', 'blocked', 'dropped', 'complained', 'unsubscribed'));
ALTER TABLE "campaign_link_clicks" ADD CONSTRAINT "campaign_link_clicks_counts" CHECK ("clicks" >= 0 AND "unique_clicks" >= 0 AND "unique_clicks" <= "clicks");
ALTER TABLE "unattributed_event_hours" ADD CONSTRAINT "unattributed_event_hours_counts" CHECK ("events" >= 0),
  ADD CONSTRAINT "unattributed_event_hours_hour" CHECK ("hour" = date_trunc('hour', "hour"));

-- Events already applied before this migration are counted now, as `npm run reports:rebuild` would.
-- (The statements are those of apps/worker/src/events/aggregate-events.ts over every processed event.)
-- The aggregates recounted from every processed event, exactly: what `npm run reports:rebuild`
-- runs, and what the aggregates kept as events are applied must always equal. Under the same
-- transaction lock as applying events, so no batch lands halfway through. Events whose delivery
-- Herald does not know (and that are not its confirmation or welcome emails, which carry
-- herald_subscriber_id) are counted as unattributed.
CREATE FUNCTION herald_rebuild_report_aggregates() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('herald report aggregates'));
  -- An erased person's click keeps only the link's digest (url_hash): the link as counted stays.
  DROP TABLE IF EXISTS herald_link_urls;
  CREATE TEMP TABLE herald_link_urls ON COMMIT DROP AS SELECT campaign_id, url_hash, url FROM campaign_link_clicks;
  TRUNCATE campaign_event_hours, delivery_event_firsts, campaign_link_clicks, delivery_link_clicks, unattributed_event_hours;

  DROP TABLE IF EXISTS herald_reported;
  CREATE TEMP TABLE herald_reported ON COMMIT DROP AS
    SELECT e.delivery_id, d.campaign_id, k.kind, e.occurred_at, e.payload->>'url' AS url,
           coalesce(e.payload->>'url_hash', md5(e.payload->>'url')) AS url_hash,
           e.payload->>'herald_subscriber_id' IS NOT NULL AS transactional
    FROM email_events e
    LEFT JOIN deliveries d ON d.id = e.delivery_id
    CROSS JOIN LATERAL (SELECT herald_report_kind(e.type, e.payload->>'type') AS kind) k
    WHERE e.processed_at IS NOT NULL AND k.kind IS NOT NULL;

  INSERT INTO delivery_event_firsts (delivery_id, kind, campaign_id, first_at)
    SELECT delivery_id, kind, campaign_id, min(occurred_at) FROM herald_reported
    WHERE campaign_id IS NOT NULL GROUP BY delivery_id, kind, campaign_id;

  INSERT INTO campaign_event_hours (campaign_id, kind, hour, events, uniques)
    SELECT campaign_id, kind, hour, sum(events), sum(uniques) FROM (
      SELECT campaign_id, kind, date_trunc('hour', occurred_at) AS hour, count(*) AS events, 0 AS uniques
      FROM herald_reported WHERE campaign_id IS NOT NULL GROUP BY 1, 2, 3
      UNION ALL
      SELECT campaign_id, kind, date_trunc('hour', first_at), 0, count(*) FROM delivery_event_firsts GROUP BY 1, 2, 3
    ) counted GROUP BY campaign_id, kind, hour;

  INSERT INTO delivery_link_clicks (delivery_id, url_hash, campaign_id, first_at)
    SELECT delivery_id, url_hash, campaign_id, min(occurred_at) FROM herald_reported
    WHERE campaign_id IS NOT NULL AND kind = 'clicked' AND url_hash IS NOT NULL GROUP BY delivery_id, url_hash, campaign_id;

  INSERT INTO campaign_link_clicks (campaign_id, url_hash, url, clicks, unique_clicks)
    SELECT r.campaign_id, r.url_hash, coalesce(min(r.url), min(known.url), '(a link only erased people clicked)'), count(*), count(DISTINCT r.delivery_id)
    FROM herald_reported r LEFT JOIN herald_link_urls known ON known.campaign_id = r.campaign_id AND known.url_hash = r.url_hash
    WHERE r.campaign_id IS NOT NULL AND r.kind = 'clicked' AND r.url_hash IS NOT NULL GROUP BY r.campaign_id, r.url_hash;

  INSERT INTO unattributed_event_hours (kind, hour, events)
    SELECT kind, date_trunc('hour', occurred_at), count(*) FROM herald_reported
    WHERE campaign_id IS NULL AND NOT transactional GROUP BY 1, 2;
END
$$;

SELECT herald_rebuild_report_aggregates();
