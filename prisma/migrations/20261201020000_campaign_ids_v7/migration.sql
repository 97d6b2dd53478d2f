-- Campaign ids are UUIDv7 (time-ordered) too. The deliveries indexes that lead with campaign_id
-- then receive a new campaign's audience snapshot at their right edge, as appends, instead of in
-- the middle of every earlier campaign's entries, where each full page splits in half: a
-- million-recipient snapshot over a million earlier deliveries took a quarter to a third less time.
-- Existing campaigns keep their ids.
ALTER TABLE "campaigns" ALTER COLUMN "id" SET DEFAULT herald_uuid_v7();
