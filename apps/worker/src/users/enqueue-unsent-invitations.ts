import { enqueueJobs, jobs } from '@herald/shared';
import type { Db, Queues } from '@herald/shared';

/** An invitation asked for this long ago and still not emailed has lost its job. */
const unsentInvitationAfterMs = 60 * 1000;
/** Past the link's own life, an invitation never emailed is left for the owner to send again. */
const unsentInvitationMaxAgeMs = 7 * 24 * 60 * 60 * 1000;

/**
 * Invitations not yet emailed, however recent: their jobs share the confirmations queue, so the
 * reconciler counts them among the work that queue's live jobs stand for.
 */
export async function countUnsentInvitations(db: Db): Promise<number> {
  const [row] = await db.$queryRaw<{ count: number }[]>`
    SELECT count(*)::int AS count FROM users
    WHERE invited_at > ${new Date(Date.now() - unsentInvitationMaxAgeMs)}::timestamp(3)
      AND invite_token_hash IS NULL AND password_hash IS NULL AND disabled_at IS NULL`;
  return row?.count ?? 0;
}

/**
 * Enqueues the invitation email of every user invited over a minute ago who was never sent one (no
 * token yet), still has no password and is not disabled: invitations asked for while Redis was
 * down, or whose job Redis lost. Keyed by `invited_at` like the web's own enqueue, so a job still
 * in Redis swallows the add. A team is small: one statement, one round trip. Returns how many.
 */
export async function enqueueUnsentInvitations(db: Db, queues: Queues): Promise<number> {
  const now = Date.now();
  const unsent = await db.$queryRaw<{ id: string; invited_at: Date }[]>`
    SELECT id, invited_at FROM users
    WHERE invited_at < ${new Date(now - unsentInvitationAfterMs)}::timestamp(3)
      AND invited_at > ${new Date(now - unsentInvitationMaxAgeMs)}::timestamp(3)
      AND invite_token_hash IS NULL AND password_hash IS NULL AND disabled_at IS NULL`;
  if (unsent.length > 0) {
    await enqueueJobs(queues, jobs.sendInvitation, unsent.map((user) => ({ payload: { userId: user.id }, key: user.invited_at })));
  }
  return unsent.length;
}
