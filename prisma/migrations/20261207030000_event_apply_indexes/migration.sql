-- The worker claims the oldest unprocessed events a batch at a time. On the (processed_at,
-- created_at) index that is planned as a scan of every unprocessed event and a sort of them all
-- (the table is rarely analysed while a burst of webhooks arrives), so a claim cost grows with the
-- backlog. This index holds only the unprocessed events, in claim order: a claim reads its batch
-- and stops, and an event leaves the index once applied, so it stays as small as the backlog.
-- Prisma cannot describe a partial index; schema.prisma notes it on the model.
CREATE INDEX "email_events_unprocessed_idx" ON "email_events" ("created_at") WHERE "processed_at" IS NULL;

-- Every event applied is written into each of the table's indexes again (processed_at is indexed,
-- so the update is never HOT); this one is the leading column of email_events_subscriber_type_idx,
-- which answers every lookup by subscriber it did.
DROP INDEX "email_events_subscriber_id_idx";
