-- CreateEnum
CREATE TYPE "campaign_format" AS ENUM ('html', 'markdown');

-- AlterTable
ALTER TABLE "campaigns" ADD COLUMN     "format" "campaign_format" NOT NULL DEFAULT 'html',
ADD COLUMN     "in_archive" BOOLEAN NOT NULL DEFAULT true;

-- AlterTable
ALTER TABLE "subscribers" ADD COLUMN     "used_confirm_token_hash" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "subscribers_used_confirm_token_hash_key" ON "subscribers"("used_confirm_token_hash");


