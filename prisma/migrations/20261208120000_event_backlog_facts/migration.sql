-- Applying a batch of events read each event back five times: once to claim it, then its row and
-- payload fields again in each of the four aggregate statements. The backlog row now carries what
-- applying needs, taken from the event in the statement that stores it, so the worker applies a
-- batch in one statement that reads nothing but the backlog rows it deletes (and each delivery's
-- campaign). email_events stays the source of truth: the rebuild recounts from it, and any change
-- to an event (erasure cutting its payload down, a subscriber or delivery detached) is copied to
-- its backlog row by a trigger, so a row never says what its event no longer does.

ALTER TABLE "email_event_backlog"
  ADD COLUMN "type" TEXT,
  ADD COLUMN "occurred_at" TIMESTAMP(3),
  ADD COLUMN "delivery_id" UUID,
  ADD COLUMN "subscriber_id" UUID,
  -- herald_report_kind(); NULL for an event the reports do not count.
  ADD COLUMN "kind" TEXT,
  ADD COLUMN "url" TEXT,
  ADD COLUMN "url_hash" TEXT,
  -- Confirmation mail, which belongs to no campaign: never counted as unattributed.
  ADD COLUMN "transactional" BOOLEAN,
  -- The payload fields classifyEvent reads.
  ADD COLUMN "bounce_type" TEXT,
  ADD COLUMN "reason" TEXT,
  ADD COLUMN "classification" TEXT;

-- What the backlog row derives from the event's payload, in one place for the backfill below and
-- both triggers. A single-SELECT IMMUTABLE SQL function: the planner inlines it into each
-- statement, so it costs no call per event.
CREATE FUNCTION herald_backlog_facts(event_type text, payload jsonb)
RETURNS TABLE (kind text, url text, url_hash text, transactional boolean, bounce_type text, reason text, classification text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT herald_report_kind(event_type, payload->>'type'), payload->>'url', coalesce(payload->>'url_hash', md5(payload->>'url')),
         payload ? 'herald_subscriber_id', payload->>'type', payload->>'reason', payload->>'bounce_classification'
$$;

UPDATE "email_event_backlog" b SET
  "type" = e."type", "occurred_at" = e."occurred_at", "delivery_id" = e."delivery_id", "subscriber_id" = e."subscriber_id",
  "kind" = f."kind", "url" = f."url", "url_hash" = f."url_hash", "transactional" = f."transactional",
  "bounce_type" = f."bounce_type", "reason" = f."reason", "classification" = f."classification"
FROM "email_events" e CROSS JOIN LATERAL herald_backlog_facts(e."type", e."payload") f
WHERE e."id" = b."event_id";

ALTER TABLE "email_event_backlog"
  ALTER COLUMN "type" SET NOT NULL,
  ALTER COLUMN "occurred_at" SET NOT NULL,
  ALTER COLUMN "transactional" SET NOT NULL;

-- Every stored event enters the backlog, with its facts, in the statement that stores it.
CREATE OR REPLACE FUNCTION herald_email_events_backlog() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO email_event_backlog (event_id, created_at, type, occurred_at, delivery_id, subscriber_id, kind, url, url_hash,
                                   transactional, bounce_type, reason, classification)
    SELECT i.id, i.created_at, i.type, i.occurred_at, i.delivery_id, i.subscriber_id, f.*
    FROM inserted i CROSS JOIN LATERAL herald_backlog_facts(i.type, i.payload) f
    ORDER BY i.created_at, i.id;
  RETURN NULL;
END
$$;

-- An event changed while still waiting: its backlog row follows. Only erasure and the detach
-- triggers change events, rarely and few at a time; the join is by the backlog's event_id index.
CREATE FUNCTION herald_email_events_backlog_follow() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE email_event_backlog b SET
    type = e.type, occurred_at = e.occurred_at, delivery_id = e.delivery_id, subscriber_id = e.subscriber_id,
    kind = f.kind, url = f.url, url_hash = f.url_hash, transactional = f.transactional,
    bounce_type = f.bounce_type, reason = f.reason, classification = f.classification
  FROM changed e CROSS JOIN LATERAL herald_backlog_facts(e.type, e.payload) f
  WHERE b.event_id = e.id;
  RETURN NULL;
END
$$;

CREATE TRIGGER "email_events_backlog_on_update" AFTER UPDATE ON "email_events"
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION herald_email_events_backlog_follow();

-- Event ids are UUIDv7 (time-ordered), as campaign and delivery ids are: a stored batch's ids land
-- at the right edge of the primary key and of the backlog's event_id index instead of on random
-- pages of indexes that grow by millions of entries per large campaign.
ALTER TABLE "email_events" ALTER COLUMN "id" SET DEFAULT herald_uuid_v7();
