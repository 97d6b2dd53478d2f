import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '@herald/shared';
import type { Actor } from './actor.js';
import { lowerRole } from './roles.js';
import type { Role } from './roles.js';

/** `herald_` + 43 characters of base64url: 256 random bits, recognisable in a leaked-secret scan. */
const tokenPrefix = 'herald_';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export type NewApiToken = { name: string; role: Role; expiresAt?: Date | undefined };

/** A stored token as its callers use it (named, so the web's build can emit declarations). */
export type ApiTokenRow = Parameters<typeof tokenView>[0] & { userId: string; tokenHash: string };

/** Makes a token for a user; the token itself is returned this once and never stored. */
export async function createApiToken(db: Db, userId: string, input: NewApiToken): Promise<{ row: ApiTokenRow; token: string }> {
  const token = tokenPrefix + randomBytes(32).toString('base64url');
  const row = await db.apiToken.create({
    data: {
      userId,
      name: input.name,
      role: input.role,
      tokenHash: hashToken(token),
      tokenPrefix: token.slice(0, tokenPrefix.length + 6),
      expiresAt: input.expiresAt ?? null,
    },
  });
  return { row, token };
}

/**
 * The actor a bearer token stands for, or null when it is unknown, revoked, expired, or its user
 * is disabled. A token acts with the lower of its own role and its user's current role, so
 * demoting a user demotes their tokens too. The last use is written at most once a minute.
 */
export async function actorForApiToken(db: Db, token: string, address: string | undefined): Promise<Actor | null> {
  if (!token.startsWith(tokenPrefix)) return null;
  const row = await db.apiToken.findUnique({
    where: { tokenHash: hashToken(token) },
    include: { user: { select: { email: true, role: true, disabledAt: true } } },
  });
  const now = new Date();
  if (!row || row.revokedAt || (row.expiresAt && row.expiresAt <= now) || row.user.disabledAt) return null;
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > 60_000 || row.lastUsedFrom !== (address ?? null)) {
    // updateMany, not update: the token may be gone by now (its user removed a moment ago), and a
    // token that no longer exists is refused like any unknown one, not a 500.
    const { count } = await db.apiToken.updateMany({ where: { id: row.id }, data: { lastUsedAt: now, lastUsedFrom: address ?? null } });
    if (count === 0) return null;
  }
  return { userId: row.userId, tokenId: row.id, label: `${row.user.email} (token ${row.name})`, role: lowerRole(row.role, row.user.role) };
}

export function tokenView(row: {
  id: string;
  name: string;
  role: Role;
  tokenPrefix: string;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  lastUsedFrom: string | null;
  revokedAt: Date | null;
  createdAt: Date;
}) {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    prefix: row.tokenPrefix,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt?.toISOString() ?? null,
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    lastUsedFrom: row.lastUsedFrom,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}
