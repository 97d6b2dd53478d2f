-- AlterTable
ALTER TABLE "deliveries" ADD COLUMN     "claim_token" TEXT;
