-- CreateTable
CREATE TABLE "mail_holds" (
    "kind" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "held_since" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "held_count" INTEGER NOT NULL DEFAULT 1,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "mail_holds_pkey" PRIMARY KEY ("kind")
);
