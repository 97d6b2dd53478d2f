-- CreateEnum
CREATE TYPE "campaign_format" AS ENUM ('html', 'markdown');

-- AlterTable
ALTER TABLE "campaigns" ADD COLUMN     "format" "campaign_format" NOT NULL DEFAULT 'html',
ADD COLUMN     "in_archive" BOOLEAN NOT NULL DEFAULT true;

