-- AlterTable
ALTER TABLE "campaigns" ADD COLUMN     "enqueued_through" UUID;
