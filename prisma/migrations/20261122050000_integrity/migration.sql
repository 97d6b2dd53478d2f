-- Integrity that Prisma's schema language cannot express. Written by hand; Prisma's diff ignores
-- CHECK constraints, functions and triggers, so `migrate diff` between migrations and schema stays empty.

-- State rules: a row in a state always carries the data that state needs.
ALTER TABLE "subscribers"
  ADD CONSTRAINT "subscribers_email_normalised" CHECK ("email" = lower(btrim("email")) AND length("email") BETWEEN 3 AND 254);
ALTER TABLE "campaigns"
  ADD CONSTRAINT "campaigns_scheduled_has_time" CHECK ("status" <> 'scheduled' OR "send_at" IS NOT NULL),
  ADD CONSTRAINT "campaigns_recipient_count_nonnegative" CHECK ("recipient_count" >= 0);
ALTER TABLE "deliveries"
  ADD CONSTRAINT "deliveries_sending_has_claim" CHECK ("status" <> 'sending' OR "claimed_at" IS NOT NULL),
  ADD CONSTRAINT "deliveries_sent_has_time" CHECK ("status" <> 'sent' OR "sent_at" IS NOT NULL),
  ADD CONSTRAINT "deliveries_counters_nonnegative" CHECK ("attempts" >= 0 AND "round" >= 0);

-- References. Deliveries and events point at campaigns, subscribers and deliveries without
-- row-by-row foreign keys: a 100k-recipient audience snapshot spent more than half its time in
-- per-row FK checks. These triggers keep the same rules with one set-based check per statement,
-- and carry out the ON DELETE behaviour of the relations. One gap remains that a real foreign key
-- would close with row locks: a subscriber erased in the very moment a campaign snapshots its
-- audience may leave that one delivery pointing at nobody; sending skips such a delivery.

CREATE FUNCTION "herald_check_delivery_refs"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- An audience snapshot adds many rows for one campaign: check each distinct campaign once.
  IF EXISTS (SELECT 1 FROM (SELECT DISTINCT "campaign_id" FROM "added") d
             WHERE NOT EXISTS (SELECT 1 FROM "campaigns" c WHERE c."id" = d."campaign_id")) THEN
    RAISE EXCEPTION 'deliveries.campaign_id references a missing campaign' USING ERRCODE = 'foreign_key_violation';
  END IF;
  IF EXISTS (SELECT 1 FROM "added" d WHERE d."subscriber_id" IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM "subscribers" s WHERE s."id" = d."subscriber_id")) THEN
    RAISE EXCEPTION 'deliveries.subscriber_id references a missing subscriber' USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER "deliveries_refs_on_insert" AFTER INSERT ON "deliveries"
  REFERENCING NEW TABLE AS "added" FOR EACH STATEMENT EXECUTE FUNCTION "herald_check_delivery_refs"();

CREATE FUNCTION "herald_check_event_refs"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM "added" e WHERE e."delivery_id" IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM "deliveries" d WHERE d."id" = e."delivery_id")) THEN
    RAISE EXCEPTION 'email_events.delivery_id references a missing delivery' USING ERRCODE = 'foreign_key_violation';
  END IF;
  IF EXISTS (SELECT 1 FROM "added" e WHERE e."subscriber_id" IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM "subscribers" s WHERE s."id" = e."subscriber_id")) THEN
    RAISE EXCEPTION 'email_events.subscriber_id references a missing subscriber' USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER "email_events_refs_on_insert" AFTER INSERT ON "email_events"
  REFERENCING NEW TABLE AS "added" FOR EACH STATEMENT EXECUTE FUNCTION "herald_check_event_refs"();

-- Only erasure changes these columns, and only to NULL; anything else is refused.
CREATE FUNCTION "herald_refs_only_detach"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% may only be set to NULL', TG_ARGV[0] USING ERRCODE = 'foreign_key_violation';
END $$;

CREATE TRIGGER "deliveries_campaign_fixed" BEFORE UPDATE OF "campaign_id" ON "deliveries"
  FOR EACH ROW WHEN (NEW."campaign_id" IS DISTINCT FROM OLD."campaign_id")
  EXECUTE FUNCTION "herald_refs_only_detach"('deliveries.campaign_id');
CREATE TRIGGER "deliveries_subscriber_detach_only" BEFORE UPDATE OF "subscriber_id" ON "deliveries"
  FOR EACH ROW WHEN (NEW."subscriber_id" IS NOT NULL AND NEW."subscriber_id" IS DISTINCT FROM OLD."subscriber_id")
  EXECUTE FUNCTION "herald_refs_only_detach"('deliveries.subscriber_id');
CREATE TRIGGER "email_events_delivery_detach_only" BEFORE UPDATE OF "delivery_id" ON "email_events"
  FOR EACH ROW WHEN (NEW."delivery_id" IS NOT NULL AND NEW."delivery_id" IS DISTINCT FROM OLD."delivery_id")
  EXECUTE FUNCTION "herald_refs_only_detach"('email_events.delivery_id');
CREATE TRIGGER "email_events_subscriber_detach_only" BEFORE UPDATE OF "subscriber_id" ON "email_events"
  FOR EACH ROW WHEN (NEW."subscriber_id" IS NOT NULL AND NEW."subscriber_id" IS DISTINCT FROM OLD."subscriber_id")
  EXECUTE FUNCTION "herald_refs_only_detach"('email_events.subscriber_id');

-- ON DELETE SET NULL: an erased subscriber leaves anonymous deliveries and events behind.
CREATE FUNCTION "herald_detach_subscriber"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "deliveries" SET "subscriber_id" = NULL WHERE "subscriber_id" = OLD."id";
  UPDATE "email_events" SET "subscriber_id" = NULL WHERE "subscriber_id" = OLD."id";
  RETURN OLD;
END $$;

CREATE TRIGGER "subscribers_detach_on_delete" BEFORE DELETE ON "subscribers"
  FOR EACH ROW EXECUTE FUNCTION "herald_detach_subscriber"();

-- ON DELETE CASCADE from campaigns to deliveries, SET NULL from deliveries to events.
CREATE FUNCTION "herald_delete_campaign_deliveries"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM "deliveries" WHERE "campaign_id" = OLD."id";
  RETURN OLD;
END $$;

CREATE TRIGGER "campaigns_cascade_on_delete" BEFORE DELETE ON "campaigns"
  FOR EACH ROW EXECUTE FUNCTION "herald_delete_campaign_deliveries"();

CREATE FUNCTION "herald_detach_delivery_events"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "email_events" SET "delivery_id" = NULL WHERE "delivery_id" IN (SELECT "id" FROM "removed");
  RETURN NULL;
END $$;

CREATE TRIGGER "deliveries_detach_events_on_delete" AFTER DELETE ON "deliveries"
  REFERENCING OLD TABLE AS "removed" FOR EACH STATEMENT EXECUTE FUNCTION "herald_detach_delivery_events"();
