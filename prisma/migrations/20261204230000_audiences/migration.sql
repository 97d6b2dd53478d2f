-- CreateEnum
CREATE TYPE "list_visibility" AS ENUM ('public', 'private');

-- CreateEnum
CREATE TYPE "subscription_status" AS ENUM ('pending', 'active', 'unsubscribed');

-- AlterTable
ALTER TABLE "campaigns" ADD COLUMN     "segment_id" UUID,
ADD COLUMN     "segment_rules" JSONB;

-- AlterTable
ALTER TABLE "subscribers" ADD COLUMN     "attributes" JSONB NOT NULL DEFAULT '{}';

-- CreateTable
CREATE TABLE "lists" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" TEXT NOT NULL,
    "slug" TEXT NOT NULL,
    "description" TEXT,
    "visibility" "list_visibility" NOT NULL DEFAULT 'public',
    "double_opt_in" BOOLEAN NOT NULL DEFAULT true,
    "is_default" BOOLEAN NOT NULL DEFAULT false,
    "welcome_subject" TEXT,
    "welcome_body" TEXT,
    "welcome_format" "campaign_format" NOT NULL DEFAULT 'markdown',
    "archived_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "lists_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "subscriptions" (
    "subscriber_id" UUID NOT NULL,
    "list_id" UUID NOT NULL,
    "status" "subscription_status" NOT NULL DEFAULT 'pending',
    "consent_at" TIMESTAMP(3),
    "consent_source" TEXT,
    "confirmed_at" TIMESTAMP(3),
    "unsubscribed_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "subscriptions_pkey" PRIMARY KEY ("subscriber_id","list_id")
);

-- CreateTable
CREATE TABLE "segments" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" TEXT NOT NULL,
    "rules" JSONB NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "segments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "campaign_lists" (
    "campaign_id" UUID NOT NULL,
    "list_id" UUID NOT NULL,
    "position" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "campaign_lists_pkey" PRIMARY KEY ("campaign_id","list_id")
);

-- CreateTable
CREATE TABLE "welcome_emails" (
    "id" UUID NOT NULL DEFAULT herald_uuid_v7(),
    "subscriber_id" UUID NOT NULL,
    "list_id" UUID NOT NULL,
    "status" "delivery_status" NOT NULL DEFAULT 'queued',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "provider_message_id" TEXT,
    "claimed_at" TIMESTAMP(3),
    "sent_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "welcome_emails_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "lists_slug_key" ON "lists"("slug");

-- CreateIndex
CREATE INDEX "subscriptions_list_id_status_subscriber_id_idx" ON "subscriptions"("list_id", "status", "subscriber_id");

-- CreateIndex
CREATE UNIQUE INDEX "segments_name_key" ON "segments"("name");

-- CreateIndex
CREATE INDEX "campaign_lists_list_id_idx" ON "campaign_lists"("list_id");

-- CreateIndex
CREATE INDEX "welcome_emails_status_created_at_idx" ON "welcome_emails"("status", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "welcome_emails_subscriber_id_list_id_key" ON "welcome_emails"("subscriber_id", "list_id");

-- AddForeignKey
ALTER TABLE "subscriptions" ADD CONSTRAINT "subscriptions_subscriber_id_fkey" FOREIGN KEY ("subscriber_id") REFERENCES "subscribers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "subscriptions" ADD CONSTRAINT "subscriptions_list_id_fkey" FOREIGN KEY ("list_id") REFERENCES "lists"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "campaign_lists" ADD CONSTRAINT "campaign_lists_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaigns"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "campaign_lists" ADD CONSTRAINT "campaign_lists_list_id_fkey" FOREIGN KEY ("list_id") REFERENCES "lists"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "welcome_emails" ADD CONSTRAINT "welcome_emails_subscriber_id_fkey" FOREIGN KEY ("subscriber_id") REFERENCES "subscribers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "welcome_emails" ADD CONSTRAINT "welcome_emails_list_id_fkey" FOREIGN KEY ("list_id") REFERENCES "lists"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "campaigns" ADD CONSTRAINT "campaigns_segment_id_fkey" FOREIGN KEY ("segment_id") REFERENCES "segments"("id") ON DELETE RESTRICT ON UPDATE CASCADE;



-- Written by hand from here: rules the schema language cannot express, and the upgrade of
-- existing data.

ALTER TABLE "lists"
  ADD CONSTRAINT "lists_slug_shape" CHECK ("slug" ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length("slug") <= 64),
  ADD CONSTRAINT "lists_name_present" CHECK (length(btrim("name")) BETWEEN 1 AND 200),
  ADD CONSTRAINT "lists_welcome_complete" CHECK (("welcome_subject" IS NULL) = ("welcome_body" IS NULL));
-- One default list: the audience of a campaign that names none.
CREATE UNIQUE INDEX "lists_one_default" ON "lists" ("is_default") WHERE "is_default";

ALTER TABLE "subscriptions"
  ADD CONSTRAINT "subscriptions_active_confirmed" CHECK ("status" <> 'active' OR "confirmed_at" IS NOT NULL),
  ADD CONSTRAINT "subscriptions_unsubscribed_has_time" CHECK ("status" <> 'unsubscribed' OR "unsubscribed_at" IS NOT NULL);

ALTER TABLE "subscribers"
  ADD CONSTRAINT "subscribers_attributes_object" CHECK (jsonb_typeof("attributes") = 'object' AND octet_length("attributes"::text) <= 8192);
-- Segment rules on attributes: `eq` compiles to containment (@>), which this index answers.
CREATE INDEX "subscribers_attributes_idx" ON "subscribers" USING GIN ("attributes" jsonb_path_ops);
-- Segment rules on signup and confirmation dates.
CREATE INDEX "subscribers_created_at_idx" ON "subscribers" ("created_at");
CREATE INDEX "subscribers_confirmed_at_idx" ON "subscribers" ("confirmed_at");

ALTER TABLE "segments"
  ADD CONSTRAINT "segments_rules_object" CHECK (jsonb_typeof("rules") = 'object'),
  ADD CONSTRAINT "segments_name_present" CHECK (length(btrim("name")) BETWEEN 1 AND 200);
ALTER TABLE "campaigns"
  ADD CONSTRAINT "campaigns_one_segment" CHECK ("segment_id" IS NULL OR "segment_rules" IS NULL);

ALTER TABLE "welcome_emails"
  ADD CONSTRAINT "welcome_emails_sending_has_claim" CHECK ("status" <> 'sending' OR "claimed_at" IS NOT NULL),
  ADD CONSTRAINT "welcome_emails_sent_has_time" CHECK ("status" <> 'sent' OR "sent_at" IS NOT NULL);

-- Engagement rules (opened / clicked, per campaign or within N days) read events by subscriber and type.
CREATE INDEX "email_events_subscriber_type_idx" ON "email_events" ("subscriber_id", "type", "occurred_at");

-- The upgrade: everyone moves into one default list with their status and consent record, and every
-- existing campaign records that list as its audience. The web renames the list after
-- NEWSLETTER_NAME at start while it still carries this placeholder name.
INSERT INTO "lists" ("name", "slug", "description", "visibility", "double_opt_in", "is_default")
VALUES ('Newsletter', 'newsletter', NULL, 'public', true, true);

INSERT INTO "subscriptions" ("subscriber_id", "list_id", "status", "consent_at", "consent_source", "confirmed_at", "unsubscribed_at", "created_at", "updated_at")
SELECT s."id", l."id",
       -- A bounced or complained address keeps the subscription it had; the suppression is global
       -- and stays on the subscriber.
       (CASE
          WHEN s."status" = 'pending' THEN 'pending'
          WHEN s."status" = 'unsubscribed' THEN 'unsubscribed'
          WHEN s."status" = 'active' OR s."confirmed_at" IS NOT NULL THEN 'active'
          ELSE 'pending'
        END)::"subscription_status",
       s."consent_at", s."consent_source",
       CASE WHEN s."status" = 'active' THEN coalesce(s."confirmed_at", s."consent_at", s."created_at") ELSE s."confirmed_at" END,
       CASE WHEN s."status" = 'unsubscribed' THEN coalesce(s."unsubscribed_at", s."updated_at") END,
       s."created_at", s."updated_at"
FROM "subscribers" s CROSS JOIN "lists" l
WHERE l."is_default";

INSERT INTO "campaign_lists" ("campaign_id", "list_id", "position")
SELECT c."id", l."id", 0 FROM "campaigns" c CROSS JOIN "lists" l WHERE l."is_default";
