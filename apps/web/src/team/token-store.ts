import type { Db } from '@herald/shared';
import type { Actor } from './actor.js';
import { roleCan } from './roles.js';
import { tokenView } from './api-tokens.js';

export type TokenView = ReturnType<typeof tokenView>;

/**
 * A user's tokens: those still in use first (newest first), then the revoked ones (most recently
 * revoked first), which stay listed so their holder can see what was used and when.
 */
export async function listUserTokens(db: Db, userId: string): Promise<TokenView[]> {
  const rows = await db.apiToken.findMany({
    where: { userId },
    orderBy: [{ revokedAt: { sort: 'desc', nulls: 'first' } }, { createdAt: 'desc' }, { id: 'desc' }],
  });
  return rows.map(tokenView);
}

export type RevokedToken = { id: string; name: string; userId: string; alreadyRevoked: boolean };

/**
 * Revokes a token its actor may revoke: their own, or anyone's for a role that manages the team.
 * Null when there is no such token for this actor (someone else's counts as none, so ids cannot be
 * probed). The row stays, with `revoked_at`, for the list and the audit log; the bearer check
 * refuses it from the next request on. Revoking twice keeps the first time.
 */
export async function revokeToken(db: Db, actor: Actor, tokenId: string): Promise<RevokedToken | null> {
  const row = await db.apiToken.findUnique({ where: { id: tokenId }, select: { id: true, name: true, userId: true, revokedAt: true } });
  if (!row) return null;
  if (row.userId !== actor.userId && !roleCan(actor.role, 'users:manage')) return null;
  const { count } = await db.apiToken.updateMany({ where: { id: row.id, revokedAt: null }, data: { revokedAt: new Date() } });
  return { id: row.id, name: row.name, userId: row.userId, alreadyRevoked: count === 0 };
}
