import { Prisma, enqueueJob, jobs } from '@herald/shared';
import type { Db, Logger, Queues } from '@herald/shared';
import { roles } from './roles.js';
import type { Role } from './roles.js';
import type { InviteUserInput, UpdateUserInput } from './user-schema.js';

/** What the API and the pages say when the table's trigger refuses to lose the last owner. */
export const lastOwnerMessage = 'At least one enabled owner with a password must remain: make someone else an owner first.';

export type UserStatus = 'invited' | 'active' | 'disabled';

type UserRow = {
  id: string;
  email: string;
  name: string | null;
  role: Role;
  passwordHash: string | null;
  invitedAt: Date | null;
  inviteExpiresAt: Date | null;
  disabledAt: Date | null;
  lastLoginAt: Date | null;
  createdAt: Date;
};

export type UserView = {
  id: string;
  email: string;
  name: string | null;
  role: Role;
  status: UserStatus;
  createdAt: string;
  lastLoginAt: string | null;
  invitedAt: string | null;
};

/** Disabled wins; otherwise someone without a password has yet to take up their invitation. */
export function userStatus(row: Pick<UserRow, 'passwordHash' | 'disabledAt'>): UserStatus {
  if (row.disabledAt) return 'disabled';
  return row.passwordHash ? 'active' : 'invited';
}

export function userView(row: UserRow): UserView {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    status: userStatus(row),
    createdAt: row.createdAt.toISOString(),
    lastLoginAt: row.lastLoginAt?.toISOString() ?? null,
    invitedAt: row.invitedAt?.toISOString() ?? null,
  };
}

const columns = {
  id: true,
  email: true,
  name: true,
  role: true,
  passwordHash: true,
  invitedAt: true,
  inviteExpiresAt: true,
  disabledAt: true,
  lastLoginAt: true,
  createdAt: true,
} as const;

/** Owners first, then by role, then by email: the order the team page shows. */
export async function listUsers(db: Db): Promise<UserView[]> {
  const rows = await db.user.findMany({ select: columns });
  // `roles` is lowest first.
  return rows.sort((a, b) => roles.indexOf(b.role) - roles.indexOf(a.role) || a.email.localeCompare(b.email)).map(userView);
}

export async function findUser(db: Db, id: string): Promise<(UserView & { inviteExpiresAt: string | null }) | null> {
  const row = await db.user.findUnique({ where: { id }, select: columns });
  return row ? { ...userView(row), inviteExpiresAt: row.inviteExpiresAt?.toISOString() ?? null } : null;
}

/** The Postgres error code under a Prisma error, and its message. */
function postgresError(err: unknown): { code?: string; message: string } {
  for (let current: unknown = err, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    const meta = (current as { meta?: { code?: unknown; driverAdapterError?: { cause?: { originalCode?: unknown; originalMessage?: unknown } } } }).meta;
    const code = meta?.driverAdapterError?.cause?.originalCode ?? meta?.code;
    const message = meta?.driverAdapterError?.cause?.originalMessage;
    if (typeof code === 'string') return { code, message: typeof message === 'string' ? message : current.message };
  }
  return { message: err instanceof Error ? err.message : String(err) };
}

/** The team migration's trigger refusing a change that would leave no owner who can log in. */
export function isLastOwnerError(err: unknown): boolean {
  const { code, message } = postgresError(err);
  return (code === '23514' || code === undefined) && message.includes('herald_last_owner');
}

function isUniqueViolation(err: unknown): boolean {
  if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') return true;
  return postgresError(err).code === '23505';
}

/**
 * Enqueues the invitation email. Redis being down does not undo the invitation: it is in Postgres,
 * and the reconciler enqueues invitations never emailed (see the worker's enqueue-unsent-invitations.ts).
 */
async function enqueueInvitation(queues: Queues, logger: Logger, userId: string, invitedAt: Date): Promise<void> {
  try {
    await enqueueJob(queues, jobs.sendInvitation, { userId }, invitedAt);
  } catch (err) {
    logger.warn({ userId, err: (err as Error).message }, 'invitation not enqueued; the reconciler will');
  }
}

/** Makes an invited user (no password until they choose one) and enqueues their invitation, or 'taken'. */
export async function inviteUser(db: Db, queues: Queues, logger: Logger, input: InviteUserInput): Promise<UserView | 'taken'> {
  let row: UserRow;
  try {
    row = await db.user.create({ data: { email: input.email, name: input.name ?? null, role: input.role, invitedAt: new Date() }, select: columns });
  } catch (err) {
    if (isUniqueViolation(err)) return 'taken';
    throw err;
  }
  await enqueueInvitation(queues, logger, row.id, row.invitedAt!);
  return userView(row);
}

export type UserChange = { before: UserView; after: UserView };

/**
 * Changes a user's role or disables or enables them. Disabling needs nothing else: the session and
 * bearer checks read `disabled_at` on every request, so their sessions and tokens stop at once.
 * The table's trigger refuses a change that leaves no owner who can log in ('last_owner'); two
 * owners demoting each other at once are serialised by it, and the second is refused.
 */
export async function changeUser(db: Db, id: string, input: UpdateUserInput): Promise<UserChange | 'not_found' | 'last_owner'> {
  try {
    return await db.$transaction(async (tx) => {
      // Locked, so `before` is the row the change is made to, whatever runs alongside.
      const [locked] = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM users WHERE id = ${id}::uuid FOR UPDATE`;
      if (!locked) return 'not_found' as const;
      const before = await tx.user.findUniqueOrThrow({ where: { id }, select: columns });
      const disabledAt = input.disabled === undefined ? undefined : input.disabled ? (before.disabledAt ?? new Date()) : null;
      const after = await tx.user.update({ where: { id }, data: { role: input.role, disabledAt }, select: columns });
      return { before: userView(before), after: userView(after) };
    });
  } catch (err) {
    if (isLastOwnerError(err)) return 'last_owner';
    throw err;
  }
}

/**
 * Removes a user; their API tokens go with them (foreign key cascade). Audit entries stay.
 *
 * The table's trigger refuses to lose the last owner who can log in, but lets a delete empty the
 * table (a team with nobody left is made again from ADMIN_EMAIL at the next login), so the last
 * owner alone, or two owners removing each other at once, would get through it. Here the owners'
 * lock the trigger uses is taken first, and while it is held the statement that follows sees every
 * change committed before: removing the last owner who can log in is refused whoever else exists.
 */
export async function removeUser(db: Db, id: string): Promise<UserView | 'not_found' | 'last_owner'> {
  try {
    return await db.$transaction(async (tx) => {
      await tx.$queryRaw`SELECT 1 FROM pg_advisory_xact_lock(hashtext('herald_users_owners'))`;
      const row = await tx.user.findUnique({ where: { id }, select: columns });
      if (!row) return 'not_found' as const;
      const [others] = await tx.$queryRaw<{ remain: boolean }[]>`
        SELECT EXISTS (SELECT 1 FROM users WHERE id <> ${id}::uuid AND role = 'owner' AND disabled_at IS NULL AND password_hash IS NOT NULL) AS remain`;
      if (!others?.remain) return 'last_owner' as const;
      await tx.user.delete({ where: { id } });
      return userView(row);
    });
  } catch (err) {
    if (isLastOwnerError(err)) return 'last_owner';
    throw err;
  }
}

/**
 * Sends the invitation again: a new `invited_at` (a new job), and the old link's token cleared at
 * once, so it stops working before the new email is even sent. Only for someone who has not joined
 * and is not disabled.
 */
export async function resendInvitation(db: Db, queues: Queues, logger: Logger, id: string): Promise<UserView | 'not_found' | 'joined' | 'disabled'> {
  const invitedAt = new Date();
  const changed = await db.user.updateMany({
    where: { id, passwordHash: null, disabledAt: null },
    data: { invitedAt, inviteTokenHash: null, inviteExpiresAt: null },
  });
  const row = await db.user.findUnique({ where: { id }, select: columns });
  if (!row) return 'not_found';
  if (changed.count === 0) return row.disabledAt ? 'disabled' : 'joined';
  await enqueueInvitation(queues, logger, id, invitedAt);
  return userView(row);
}
