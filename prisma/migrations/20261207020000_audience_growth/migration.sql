-- When a subscriber was suppressed (bounced or complained): the status says so, but not since
-- when, and the audience growth report counts suppressions per day.
ALTER TABLE "subscribers" ADD COLUMN "suppressed_at" TIMESTAMP(3);

-- For people suppressed before this column existed, the row's last change is the nearest time
-- recorded (a suppressed row is left alone by signups, imports and confirmations).
UPDATE "subscribers" SET "suppressed_at" = "updated_at" WHERE "status" IN ('bounced', 'complained');

-- The audience growth report groups each of these by day over a range of days; an import writes
-- every one of them, so they must cost it next to nothing. The times most rows never have are
-- partial indexes, which a row without the time does not enter (Prisma cannot describe a partial
-- index; schema.prisma notes them on the models).
CREATE INDEX "subscribers_unsubscribed_at_idx" ON "subscribers"("unsubscribed_at") WHERE "unsubscribed_at" IS NOT NULL;
CREATE INDEX "subscribers_suppressed_at_idx" ON "subscribers"("suppressed_at") WHERE "suppressed_at" IS NOT NULL;
CREATE INDEX "subscriptions_unsubscribed_at_idx" ON "subscriptions"("unsubscribed_at") WHERE "unsubscribed_at" IS NOT NULL;
-- A subscription's creation and confirmation times grow with the table's physical order (rows are
-- appended, a confirmation rewrites its row at the end), so a BRIN index, a few pages that an
-- insert rarely touches, finds a range of days; a B-tree would add a write to every imported row.
CREATE INDEX "subscriptions_created_at_idx" ON "subscriptions" USING BRIN ("created_at");
CREATE INDEX "subscriptions_confirmed_at_idx" ON "subscriptions" USING BRIN ("confirmed_at");
