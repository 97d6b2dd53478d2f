-- Outbound webhooks: endpoints a team registers, the events Herald reports to them, one delivery
-- per (event, endpoint) and every attempt at it. The events are written by triggers on the tables
-- whose changes they report, in the transaction of the change (an outbox): no code path can change
-- a subscriber or a campaign without its event, and a rollback takes the event with it.

CREATE TABLE "webhook_endpoints" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "url" TEXT NOT NULL,
    "description" TEXT,
    "event_types" TEXT[] NOT NULL,
    -- `whsec_` + base64 of 24 random bytes. Kept as it is: every delivery is signed with it.
    "secret" TEXT NOT NULL,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    -- Why the endpoint was disabled: by whom, or after which run of failures.
    "disabled_reason" TEXT,
    "disabled_at" TIMESTAMP(3),
    -- The first failed attempt since the last success; cleared by a success.
    "failing_since" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "webhook_endpoints_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "webhook_endpoints_url_check" CHECK (length("url") <= 2000 AND "url" ~ '^https?://'),
    CONSTRAINT "webhook_endpoints_description_check" CHECK (length("description") <= 500),
    CONSTRAINT "webhook_endpoints_event_types_check" CHECK (
        cardinality("event_types") > 0 AND "event_types" <@ ARRAY[
            'subscriber.created', 'subscriber.confirmed', 'subscriber.unsubscribed', 'subscriber.suppressed',
            'subscriber.erased', 'campaign.started', 'campaign.sent', 'campaign.paused']::text[]),
    CONSTRAINT "webhook_endpoints_secret_check" CHECK ("secret" ~ '^whsec_[A-Za-z0-9+/]{32}$'),
    CONSTRAINT "webhook_endpoints_disabled_check" CHECK ("enabled" = ("disabled_at" IS NULL))
);

-- One event: its id (UUIDv7, so ids sort by time) is the `webhook-id` every delivery of it carries.
CREATE TABLE "webhook_events" (
    "id" UUID NOT NULL DEFAULT herald_uuid_v7(),
    "type" TEXT NOT NULL,
    "data" JSONB NOT NULL,
    -- The subscriber it is about, so their erasure can strip their address from it (no foreign
    -- key: the erased event must outlive its subscriber).
    "subscriber_id" UUID,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "webhook_events_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "webhook_events_type_check" CHECK ("type" IN (
        'subscriber.created', 'subscriber.confirmed', 'subscriber.unsubscribed', 'subscriber.suppressed',
        'subscriber.erased', 'campaign.started', 'campaign.sent', 'campaign.paused', 'webhook.test')),
    CONSTRAINT "webhook_events_data_check" CHECK (jsonb_typeof("data") = 'object')
);
CREATE INDEX "webhook_events_subscriber_id_idx" ON "webhook_events"("subscriber_id") WHERE "subscriber_id" IS NOT NULL;
CREATE INDEX "webhook_events_created_at_idx" ON "webhook_events"("created_at");

CREATE TABLE "webhook_deliveries" (
    "id" UUID NOT NULL DEFAULT herald_uuid_v7(),
    "event_id" UUID NOT NULL,
    "endpoint_id" UUID NOT NULL,
    -- pending: to be attempted at next_attempt_at; delivered: a 2xx answered; failed: given up.
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    -- When the dispatcher last gave the due attempt a job; it gives it another a minute later if
    -- the attempt has still not been made (the job was lost with Redis).
    "dispatched_at" TIMESTAMP(3),
    -- Held by the worker making an attempt; another may take it over once this has passed.
    "locked_until" TIMESTAMP(3),
    "last_attempt_at" TIMESTAMP(3),
    "delivered_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "webhook_deliveries_event_endpoint_key" UNIQUE ("event_id", "endpoint_id"),
    CONSTRAINT "webhook_deliveries_event_id_fkey" FOREIGN KEY ("event_id") REFERENCES "webhook_events"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "webhook_deliveries_endpoint_id_fkey" FOREIGN KEY ("endpoint_id") REFERENCES "webhook_endpoints"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "webhook_deliveries_status_check" CHECK ("status" IN ('pending', 'delivered', 'failed')),
    CONSTRAINT "webhook_deliveries_attempts_check" CHECK ("attempts" >= 0),
    CONSTRAINT "webhook_deliveries_delivered_check" CHECK (("status" = 'delivered') = ("delivered_at" IS NOT NULL))
);
-- The dispatcher's question: what is due now.
CREATE INDEX "webhook_deliveries_due_idx" ON "webhook_deliveries"("next_attempt_at") WHERE "status" = 'pending';
-- An endpoint's page: its latest deliveries.
CREATE INDEX "webhook_deliveries_endpoint_id_id_idx" ON "webhook_deliveries"("endpoint_id", "id");

CREATE TABLE "webhook_attempts" (
    "id" UUID NOT NULL DEFAULT herald_uuid_v7(),
    "delivery_id" UUID NOT NULL,
    "attempted_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "duration_ms" INTEGER NOT NULL,
    -- The endpoint's HTTP status, or null when there was no answer (refused address, timeout, reset).
    "status_code" INTEGER,
    "error" TEXT,
    -- The start of the answer's body, for the endpoint's page.
    "response_excerpt" TEXT,
    CONSTRAINT "webhook_attempts_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "webhook_attempts_delivery_id_fkey" FOREIGN KEY ("delivery_id") REFERENCES "webhook_deliveries"("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "webhook_attempts_outcome_check" CHECK ("status_code" IS NOT NULL OR "error" IS NOT NULL),
    CONSTRAINT "webhook_attempts_excerpt_check" CHECK (length("response_excerpt") <= 1024 AND length("error") <= 1024)
);
CREATE INDEX "webhook_attempts_delivery_id_id_idx" ON "webhook_attempts"("delivery_id", "id");

-- Whether any enabled endpoint wants one of these event types: every trigger below asks first, so
-- without endpoints a signup or an import pays one lookup per statement and writes nothing.
CREATE FUNCTION herald_webhooks_wanted(types text[]) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE enabled AND event_types && types)
$$;

-- Each new event gets a delivery to every enabled endpoint that wants its type.
CREATE FUNCTION herald_webhook_fan_out() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO webhook_deliveries (event_id, endpoint_id)
  SELECT e.id, ep.id FROM inserted e JOIN webhook_endpoints ep ON ep.enabled AND e.type = ANY(ep.event_types)
  ORDER BY e.id;
  RETURN NULL;
END $$;
CREATE TRIGGER "webhook_events_fan_out" AFTER INSERT ON "webhook_events"
  REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION herald_webhook_fan_out();

-- A subscriber as events describe them.
CREATE FUNCTION herald_webhook_subscriber(s subscribers) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_object('id', s.id, 'email', s.email, 'name', s.name, 'status', s.status)
$$;

CREATE FUNCTION herald_webhook_subscribers_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- One added as active (single opt-in, a confirmed import) is created and confirmed at once.
  IF herald_webhooks_wanted(ARRAY['subscriber.created', 'subscriber.confirmed']) THEN
    INSERT INTO webhook_events (type, subscriber_id, data)
    SELECT c.type, n.id, jsonb_build_object('subscriber', herald_webhook_subscriber(n)) || c.extra
    FROM inserted n
    CROSS JOIN LATERAL (
      SELECT 'subscriber.created' AS type, jsonb_build_object('source', n.consent_source) AS extra
      UNION ALL
      SELECT 'subscriber.confirmed', '{}'::jsonb WHERE n.status = 'active'
    ) c
    ORDER BY n.created_at, n.id, c.type DESC;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER "subscribers_webhook_created" AFTER INSERT ON "subscribers"
  REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION herald_webhook_subscribers_inserted();

-- A person's own status: confirmed (became active), unsubscribed from everything, suppressed.
CREATE FUNCTION herald_webhook_subscribers_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF herald_webhooks_wanted(ARRAY['subscriber.confirmed', 'subscriber.unsubscribed', 'subscriber.suppressed']) THEN
    INSERT INTO webhook_events (type, subscriber_id, data)
    SELECT c.type, n.id, jsonb_build_object('subscriber', herald_webhook_subscriber(n)) || c.extra
    FROM changed o JOIN updated n USING (id)
    CROSS JOIN LATERAL (
      SELECT 'subscriber.confirmed' AS type, '{}'::jsonb AS extra WHERE n.status = 'active' AND o.status <> 'active'
      UNION ALL
      SELECT 'subscriber.unsubscribed', jsonb_build_object('list', NULL) WHERE n.status = 'unsubscribed' AND o.status <> 'unsubscribed'
      UNION ALL
      SELECT 'subscriber.suppressed', jsonb_build_object('reason', CASE n.status WHEN 'bounced' THEN 'bounce' ELSE 'complaint' END)
      WHERE n.status IN ('bounced', 'complained') AND n.status <> o.status
    ) c
    WHERE n.status <> o.status
    ORDER BY n.id;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER "subscribers_webhook_updated" AFTER UPDATE ON "subscribers"
  REFERENCING OLD TABLE AS changed NEW TABLE AS updated FOR EACH STATEMENT EXECUTE FUNCTION herald_webhook_subscribers_updated();

-- Erasure: the event names only the id, and the person's address and name leave every earlier
-- event about them that is still kept (whatever endpoints want).
CREATE FUNCTION herald_webhook_subscribers_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE webhook_events e SET data = e.data || jsonb_build_object('subscriber', jsonb_build_object('id', e.subscriber_id))
  WHERE e.subscriber_id IN (SELECT id FROM deleted) AND e.data ? 'subscriber';
  IF herald_webhooks_wanted(ARRAY['subscriber.erased']) THEN
    INSERT INTO webhook_events (type, subscriber_id, data)
    SELECT 'subscriber.erased', d.id, jsonb_build_object('subscriber', jsonb_build_object('id', d.id)) FROM deleted d ORDER BY d.id;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER "subscribers_webhook_erased" AFTER DELETE ON "subscribers"
  REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION herald_webhook_subscribers_deleted();

-- Unsubscribing from one list.
CREATE FUNCTION herald_webhook_subscriptions_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF herald_webhooks_wanted(ARRAY['subscriber.unsubscribed']) THEN
    INSERT INTO webhook_events (type, subscriber_id, data)
    SELECT 'subscriber.unsubscribed', s.id,
           jsonb_build_object('subscriber', herald_webhook_subscriber(s), 'list', jsonb_build_object('id', l.id, 'slug', l.slug, 'name', l.name))
    FROM changed o JOIN updated n USING (subscriber_id, list_id)
    JOIN subscribers s ON s.id = n.subscriber_id JOIN lists l ON l.id = n.list_id
    WHERE n.status = 'unsubscribed' AND o.status <> 'unsubscribed'
    ORDER BY s.id, l.id;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER "subscriptions_webhook_updated" AFTER UPDATE ON "subscriptions"
  REFERENCING OLD TABLE AS changed NEW TABLE AS updated FOR EACH STATEMENT EXECUTE FUNCTION herald_webhook_subscriptions_updated();

-- A campaign's status. Deferred to the commit, so the event describes the campaign as the
-- transaction left it (a start writes the status, then the audience size), and one row's
-- transitions are reported in order (an empty audience: started, then sent).
CREATE FUNCTION herald_webhook_campaign_status() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  event_type text := CASE NEW.status
    WHEN 'sending' THEN CASE WHEN TG_OP = 'INSERT' OR OLD.status IN ('draft', 'scheduled') THEN 'campaign.started' END
    WHEN 'sent' THEN 'campaign.sent'
    WHEN 'paused' THEN 'campaign.paused'
  END;
BEGIN
  IF event_type IS NOT NULL AND herald_webhooks_wanted(ARRAY[event_type]) THEN
    INSERT INTO webhook_events (type, data)
    SELECT event_type, jsonb_build_object('campaign', jsonb_build_object(
             'id', c.id, 'subject', c.subject, 'recipientCount', c.recipient_count,
             'startedAt', to_char(c.started_at, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
             'finishedAt', to_char(c.finished_at, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))
           || CASE WHEN event_type = 'campaign.paused' THEN jsonb_build_object('reason', NEW.status_reason) ELSE '{}' END
    FROM campaigns c WHERE c.id = NEW.id;
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER "campaigns_webhook_inserted" AFTER INSERT ON "campaigns" DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (NEW.status = 'sending') EXECUTE FUNCTION herald_webhook_campaign_status();
CREATE CONSTRAINT TRIGGER "campaigns_webhook_status" AFTER UPDATE OF "status" ON "campaigns" DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION herald_webhook_campaign_status();
