-- Webhook events that failed the event schema, kept raw for inspection (the rest of the batch is stored).
-- CreateTable
CREATE TABLE "malformed_email_events" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "raw" TEXT NOT NULL,
    "problems" JSONB NOT NULL,
    "email" TEXT,
    "received_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "malformed_email_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "malformed_email_events_email_idx" ON "malformed_email_events"("email");

-- CreateIndex
CREATE INDEX "malformed_email_events_received_at_idx" ON "malformed_email_events"("received_at");

