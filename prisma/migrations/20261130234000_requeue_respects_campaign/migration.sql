-- Task ids and task listings page a campaign's deliveries by id alone: statuses change under a
-- cursor while workers send, ids never do.
CREATE INDEX "deliveries_campaign_id_id_idx" ON "deliveries"("campaign_id", "id");

-- Written by hand (Prisma's diff ignores functions and triggers). A delivery goes back to `queued`
-- (a send released after a transient failure or a 429, a stuck claim recovered, a retry) only while
-- its campaign can still send it: in a cancelled campaign it becomes `cancelled` instead, whichever
-- code path moved it. FOR SHARE waits for a campaign action in progress (they hold the campaign row
-- FOR UPDATE) and then reads its outcome, so a cancel and a release can never miss each other.
CREATE FUNCTION "herald_requeue_respects_campaign"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  current_status "campaign_status";
BEGIN
  SELECT "status" INTO current_status FROM "campaigns" WHERE "id" = NEW."campaign_id" FOR SHARE;
  IF current_status = 'cancelled' THEN
    NEW."status" := 'cancelled';
    NEW."claimed_at" := NULL;
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER "deliveries_requeue_respects_campaign" BEFORE UPDATE OF "status" ON "deliveries"
  FOR EACH ROW WHEN (NEW."status" = 'queued' AND OLD."status" <> 'queued')
  EXECUTE FUNCTION "herald_requeue_respects_campaign"();
