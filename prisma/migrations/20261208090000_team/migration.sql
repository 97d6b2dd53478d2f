-- A team instead of one shared password: people who log in (users, each with a role), their
-- personal API tokens, and an append-only audit log of who did what.

CREATE TYPE "UserRole" AS ENUM ('owner', 'admin', 'editor', 'viewer');

CREATE TABLE "users" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    -- Kept lower-case, so one person cannot hold two accounts by changing the case.
    "email" TEXT NOT NULL,
    "name" TEXT,
    "role" "UserRole" NOT NULL,
    -- argon2id (PHC string). NULL until an invited user chooses a password.
    "password_hash" TEXT,
    -- An invitation: when it was asked for, and (once the worker has emailed it) the SHA-256 of its
    -- one-time token and when that expires; the token is cleared when it is used.
    "invited_at" TIMESTAMP(3),
    "invite_token_hash" TEXT,
    "invite_expires_at" TIMESTAMP(3),
    "disabled_at" TIMESTAMP(3),
    "last_login_at" TIMESTAMP(3),
    -- The per-account login throttle: wrong passwords since the window began, whatever the address.
    "failed_logins" INTEGER NOT NULL DEFAULT 0,
    "failed_logins_since" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "users_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "users_email_check" CHECK ("email" = lower("email") AND length("email") <= 254 AND "email" LIKE '_%@_%'),
    CONSTRAINT "users_name_check" CHECK (length("name") <= 200),
    CONSTRAINT "users_password_hash_check" CHECK ("password_hash" LIKE '$argon2id$%'),
    CONSTRAINT "users_invite_check" CHECK (("invite_token_hash" IS NULL) = ("invite_expires_at" IS NULL)),
    -- Someone who can log in has a password or an invitation to choose one; never neither.
    CONSTRAINT "users_credential_check" CHECK ("password_hash" IS NOT NULL OR "invited_at" IS NOT NULL OR "disabled_at" IS NOT NULL),
    CONSTRAINT "users_failed_logins_check" CHECK ("failed_logins" >= 0)
);
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");
CREATE UNIQUE INDEX "users_invite_token_hash_key" ON "users"("invite_token_hash");

-- One owner always remains: an owner who can log in (enabled, with a password). Two owners
-- demoting, disabling or removing each other at once are serialised on one lock, taken before
-- either row changes, and the second finds the first's change when it checks.
CREATE FUNCTION herald_lock_owners() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('herald_users_owners'));
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER "users_lock_owners" BEFORE UPDATE OR DELETE ON "users"
    FOR EACH ROW WHEN (OLD."role" = 'owner') EXECUTE FUNCTION herald_lock_owners();

-- Checked only by statements that changed an owner's row, so that a database left without an
-- owner by hand (psql) still lets everyone else log in, and `npm run admin:create` can mend it.
CREATE FUNCTION herald_keep_an_owner() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM old_rows WHERE role = 'owner') AND NOT EXISTS (
        SELECT 1 FROM users WHERE role = 'owner' AND disabled_at IS NULL AND password_hash IS NOT NULL) THEN
        RAISE EXCEPTION 'herald_last_owner: at least one owner who can log in must remain'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER "users_keep_an_owner_on_update" AFTER UPDATE ON "users"
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION herald_keep_an_owner();
CREATE TRIGGER "users_keep_an_owner_on_delete" AFTER DELETE ON "users"
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION herald_keep_an_owner();

-- Personal API tokens. Only the SHA-256 of a token is kept (a token is 256 random bits, so a fast
-- hash is enough; passwords get argon2id). A token never acts above its user's current role.
CREATE TABLE "api_tokens" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "role" "UserRole" NOT NULL,
    "token_hash" TEXT NOT NULL,
    -- The token's first characters, shown in lists so its holder can tell which one it is.
    "token_prefix" TEXT NOT NULL,
    "expires_at" TIMESTAMP(3),
    "last_used_at" TIMESTAMP(3),
    "last_used_from" TEXT,
    "revoked_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "api_tokens_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "api_tokens_name_check" CHECK (length("name") BETWEEN 1 AND 100),
    CONSTRAINT "api_tokens_token_hash_check" CHECK ("token_hash" ~ '^[0-9a-f]{64}$'),
    CONSTRAINT "api_tokens_expiry_check" CHECK ("expires_at" > "created_at")
);
CREATE UNIQUE INDEX "api_tokens_token_hash_key" ON "api_tokens"("token_hash");
CREATE INDEX "api_tokens_user_id_idx" ON "api_tokens"("user_id");
ALTER TABLE "api_tokens" ADD CONSTRAINT "api_tokens_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Who did what, on what, when and from where. Append-only: no row is ever changed or removed,
-- except that erasing a subscriber clears their address from the entries about them.
CREATE TABLE "audit_entries" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    -- The user who acted (directly or through one of their tokens), and the token if one was used.
    -- No foreign keys: an entry outlives the user and token it names.
    "actor_user_id" UUID,
    "actor_token_id" UUID,
    -- How the actor is shown: an email, or the bootstrap token; for a failed login, the email tried.
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "target_type" TEXT,
    "target_id" TEXT,
    "target_label" TEXT,
    "address" TEXT,
    "details" JSONB NOT NULL DEFAULT '{}',
    CONSTRAINT "audit_entries_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "audit_entries_action_check" CHECK ("action" ~ '^[a-z_]+\.[a-z_]+$'),
    CONSTRAINT "audit_entries_actor_check" CHECK (length("actor") <= 300),
    CONSTRAINT "audit_entries_details_check" CHECK (jsonb_typeof("details") = 'object')
);
CREATE INDEX "audit_entries_at_idx" ON "audit_entries"("at");
CREATE INDEX "audit_entries_actor_id_idx" ON "audit_entries"("actor", "id");
CREATE INDEX "audit_entries_action_id_idx" ON "audit_entries"("action", "id");
CREATE INDEX "audit_entries_target_type_target_id_idx" ON "audit_entries"("target_type", "target_id");

CREATE FUNCTION herald_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The one change allowed: an erasure clearing the erased person's address and details.
    IF TG_OP = 'UPDATE'
       AND NEW.target_label IS NULL AND NEW.details = '{}'::jsonb
       AND (NEW.id, NEW.at, NEW.actor_user_id, NEW.actor_token_id, NEW.actor, NEW.action, NEW.target_type, NEW.target_id, NEW.address)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.at, OLD.actor_user_id, OLD.actor_token_id, OLD.actor, OLD.action, OLD.target_type, OLD.target_id, OLD.address) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'herald_audit_append_only: audit entries are never changed or removed'
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER "audit_entries_append_only" BEFORE UPDATE OR DELETE ON "audit_entries"
    FOR EACH ROW EXECUTE FUNCTION herald_audit_append_only();
