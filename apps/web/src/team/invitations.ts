import { createHash } from 'node:crypto';
import type { Db } from '@herald/shared';
import type { Role } from './roles.js';

/** Tokens are 32 random bytes in base64url (the worker's send-invitation.ts); anything else is not one. */
const tokenShape = /^[A-Za-z0-9_-]{43}$/;

function tokenHash(token: string): string | null {
  return tokenShape.test(token) ? createHash('sha256').update(token).digest('hex') : null;
}

export type OpenInvitation = { id: string; email: string; name: string | null; role: Role };

/**
 * The invitation a link stands for, or why it does not work: 'expired', or 'unknown' for a link
 * never sent, replaced by a newer one, already used, or whose user joined, was disabled or removed.
 * The token is found by its SHA-256, so the lookup says nothing about other tokens.
 */
export async function findInvitation(db: Db, token: string): Promise<OpenInvitation | 'expired' | 'unknown'> {
  const hash = tokenHash(token);
  if (!hash) return 'unknown';
  const user = await db.user.findUnique({
    where: { inviteTokenHash: hash },
    select: { id: true, email: true, name: true, role: true, passwordHash: true, disabledAt: true, inviteExpiresAt: true },
  });
  if (!user || user.passwordHash || user.disabledAt) return 'unknown';
  if (!user.inviteExpiresAt || user.inviteExpiresAt <= new Date()) return 'expired';
  return { id: user.id, email: user.email, name: user.name, role: user.role };
}

export type JoinedUser = { id: string; email: string; role: Role; passwordHash: string };

/**
 * Takes up an invitation: sets the password and name and clears the token in one conditional
 * UPDATE, so of two submissions of one link (or one racing its expiry, a resend or a disable) at
 * most one joins. Null when the link no longer works.
 */
export async function acceptInvitation(db: Db, token: string, input: { name: string; passwordHash: string }): Promise<JoinedUser | null> {
  const hash = tokenHash(token);
  if (!hash) return null;
  const now = new Date();
  const [joined] = await db.$queryRaw<{ id: string; email: string; role: Role; password_hash: string }[]>`
    UPDATE users
    SET password_hash = ${input.passwordHash}, name = COALESCE(${input.name || null}::text, name),
        invite_token_hash = NULL, invite_expires_at = NULL, last_login_at = ${now}, updated_at = now()
    WHERE invite_token_hash = ${hash} AND invite_expires_at > ${now}::timestamp(3)
      AND password_hash IS NULL AND disabled_at IS NULL
    RETURNING id, email, role, password_hash`;
  return joined ? { id: joined.id, email: joined.email, role: joined.role, passwordHash: joined.password_hash } : null;
}
