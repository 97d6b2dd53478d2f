-- The preview line inbox lists show after the subject; NULL means the first sentence of the body.
ALTER TABLE "campaigns" ADD COLUMN "preheader" TEXT;
